/** Code snapshots: the public surface (agents call `extractSnapshot`; the CLI calls `packDirectory`). */
export {
  extractSnapshot,
  storeSnapshot,
  storeNarrowedSnapshot,
  snapshotExists,
  getSnapshotManifest,
  parseSnapshotRef,
} from './store';
export type { SnapshotResult } from './store';
export { packDirectory } from './pack';
export { includePatternProblem, selectIncluded, unmatchedMessage } from './include';
export { snapshotLimits, type SnapshotLimits } from './limits';
export type { SnapshotManifest, ManifestEntry } from './manifest';
