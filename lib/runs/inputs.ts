import { artifactType, reuseIfStored } from '../data/cas';
import { resolveDatasetRef } from '../data/datasets';
import { DataError } from '../data/errors';
import type { FieldProblem } from '../errors/problem';

/**
 * Pipeline inputs resolve to content when a run starts: a dataset reference (`churn-raw@latest`) to the
 * hash of that version's data, an artifact hash to itself. The run records both, so a rerun reads the
 * same bytes and a changed dataset is a changed input (by content, never by name or path).
 */
export interface ResolvedInput {
  hash: string;
  type: 'file' | 'directory';
  ref: string;
}

export async function resolveInput(
  ref: string,
  at: string,
  problems: FieldProblem[],
): Promise<ResolvedInput | undefined> {
  try {
    if (/^sha256:[0-9a-f]{64}$/.test(ref)) {
      if (!(await reuseIfStored(ref))) {
        problems.push({
          pointer: at,
          message: `artifact ${ref} is not stored; upload it or bind a dataset instead`,
        });
        return undefined;
      }
      const t = await artifactType(ref);
      return { hash: ref, type: t.type, ref };
    }
    const r = await resolveDatasetRef(ref);
    const type = r.type === 'file' || r.type === 'directory' ? r.type : (await artifactType(r.hash)).type;
    return { hash: r.hash, type, ref };
  } catch (e) {
    const status =
      (e as { status?: number; statusCode?: number }).status ?? (e as { statusCode?: number }).statusCode;
    const message = (e as Error).message;
    if (e instanceof DataError && e.code !== 'integrity') {
      problems.push({ pointer: at, message: `"${ref}": ${message}` });
      return undefined;
    }
    if (status === 404 || /not found|no such|does not exist|not stored|no version/i.test(message)) {
      problems.push({ pointer: at, message: `"${ref}": ${message}` });
      return undefined;
    }
    throw e;
  }
}
