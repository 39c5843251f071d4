/** Code snapshots: the public surface (agents call `extractSnapshot`; the CLI calls `packDirectory`). */
export {
  extractSnapshot,
  storeSnapshot,
  snapshotExists,
  getSnapshotManifest,
  parseSnapshotRef,
} from './store';
export type { SnapshotResult } from './store';
export { packDirectory } from './pack';
export { snapshotLimits, type SnapshotLimits } from './limits';
export type { SnapshotManifest, ManifestEntry } from './manifest';
