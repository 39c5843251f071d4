/** Options of the builder, apart so the build steps can take them without importing the builder. */
export interface PrepareOptions {
  /** The job's extracted code: requirements files and package.json are read from here. */
  codeDir: string;
  /** One line of build output or progress at a time (the step log). */
  log: (line: string) => void;
  /** @default setting SLUICE_ENV_CACHE_DIR */
  cacheDir?: string;
  /** @default setting SLUICE_ENV_CACHE_MAX_BYTES */
  maxBytes?: number;
  /** Force the Python build tool. @default `uv` when on PATH, else `pip` */
  tool?: 'uv' | 'pip';
  /** Setting `SLUICE_PIP_INDEX_URL`: a PyPI mirror used when the spec names no index. */
  indexUrl?: string;
  /**
   * Where the first build of an environment records its lock, shared by all machines: later builds of
   * the same key (another agent, or after pruning) install exactly that lock, so one spec means one set
   * of versions everywhere, and the spec hash in the step's cache key stands for its lock.
   * @default none (each build resolves afresh)
   */
  lockStore?: LockStore;
  /** Aborts the build (its installer processes are killed); the job then fails. @default none */
  signal?: AbortSignal;
}

export interface LockStore {
  get(key: string): Promise<string[] | undefined>;
  /** Records a lock unless one is already recorded (the first build wins). */
  put(key: string, lock: string[]): Promise<void>;
}
