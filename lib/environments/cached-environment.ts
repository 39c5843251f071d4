/**
 * One entry of an agent's environment cache, as its presence row and the live view report it. Its own
 * file, with no imports, so the dashboard's browser build imports the same type the agent writes.
 */
export interface CachedEnvironment {
  /** The build key's hex (the `<key>` directory, `steps[].environment.hash` without `sha256:`). */
  key: string;
  /** What built it: `uv 0.x`, `pip`, `npm`. */
  tool: string;
  python?: string;
  /** How many packages its lock holds, and the first few (`name==version`). */
  packages: number;
  lockHead: string[];
  sizeBytes: number;
  builtAt: string;
  lastUsedAt?: string;
  /** The registered environments (`name@version`) it has served; empty for inline specs. */
  names: string[];
}
