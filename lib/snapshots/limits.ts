/**
 * Snapshot limits. Code snapshots are source trees, not data: data belongs in datasets and step outputs.
 * Each limit can be raised with an environment setting; exceeding one answers 413 naming the limit.
 */
export interface SnapshotLimits {
  /** Bytes of the uploaded tar.gz. Setting `SLUICE_SNAPSHOT_MAX_COMPRESSED_BYTES`. @default 52428800 (50 MiB) */
  maxCompressedBytes: number;
  /** Bytes of all files once expanded. Setting `SLUICE_SNAPSHOT_MAX_EXPANDED_BYTES`. @default 262144000 (250 MiB) */
  maxExpandedBytes: number;
  /** Bytes of one file (each is buffered while hashed). Setting `SLUICE_SNAPSHOT_MAX_FILE_BYTES`. @default 104857600 (100 MiB) */
  maxFileBytes: number;
  /** Number of files and links. Setting `SLUICE_SNAPSHOT_MAX_FILES`. @default 10000 */
  maxFiles: number;
}

const num = (v: string | undefined, d: number): number => {
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : d;
};

export function snapshotLimits(env: NodeJS.ProcessEnv = process.env): SnapshotLimits {
  return {
    maxCompressedBytes: num(env.SLUICE_SNAPSHOT_MAX_COMPRESSED_BYTES, 50 * 1024 * 1024),
    maxExpandedBytes: num(env.SLUICE_SNAPSHOT_MAX_EXPANDED_BYTES, 250 * 1024 * 1024),
    maxFileBytes: num(env.SLUICE_SNAPSHOT_MAX_FILE_BYTES, 100 * 1024 * 1024),
    maxFiles: num(env.SLUICE_SNAPSHOT_MAX_FILES, 10000),
  };
}
