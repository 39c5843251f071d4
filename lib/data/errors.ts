/**
 * The data domain's closed family of errors, and its one mapping to HTTP problems. Agents map the same
 * codes to job failure codes (lib/compute/failures.ts).
 */
import { ProblemError, invalid, notFound } from '../errors/problem';

export type DataErrorCode =
  | 'invalid-hash' // a string that is not sha256:<hex>
  | 'artifact-not-found' // no blob under that hash
  | 'path-not-found' // no such file inside a directory manifest
  | 'not-a-directory' // the hash names a file, or the manifest is malformed
  | 'integrity' // downloaded bytes do not match their hash
  | 'invalid-content' // local content cannot be stored (wrong type, unreadable)
  | 'dataset-not-found'
  | 'invalid-reference' // a dataset reference that is not name@version
  | 'invalid-setting'; // a data setting (e.g. SLUICE_TMP_BLOB_TTL) that cannot be used

export class DataError extends Error {
  constructor(
    readonly code: DataErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DataError';
  }
}

/** Maps a DataError to its HTTP problem; other errors pass through unchanged. */
export function toProblem(err: unknown, pointer = ''): unknown {
  if (!(err instanceof DataError)) return err;
  switch (err.code) {
    case 'artifact-not-found':
    case 'path-not-found':
    case 'dataset-not-found':
      return notFound(err.message);
    case 'invalid-hash':
    case 'invalid-reference':
    case 'invalid-content':
    case 'not-a-directory':
      return invalid([{ pointer, message: err.message }]);
    case 'integrity':
      return new ProblemError('unavailable', err.message);
    case 'invalid-setting':
      // The operator's mistake, not the caller's: the detail names the setting, never its neighbours.
      return new ProblemError('internal', err.message);
  }
}

/** Runs `fn`, rethrowing DataErrors as problems (for HTTP handlers). */
export async function asProblems<T>(fn: () => Promise<T>, pointer = ''): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toProblem(e, pointer);
  }
}
