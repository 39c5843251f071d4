/**
 * Extracting a job's code snapshot through PIPELINES' `extractSnapshot(ref, dir)` (lib/snapshots).
 * Looked up at run time so an agent keeps working for jobs without code while that module changes.
 */
import { join } from 'node:path';

type Extract = (ref: string, dir: string) => Promise<unknown>;

let found: Extract | undefined;

async function locate(): Promise<Extract> {
  if (found) return found;
  const base = join(__dirname, '..', 'snapshots');
  for (const mod of ['index', 'extract', 'store', 'snapshots']) {
    try {
      const m = (await import(join(base, `${mod}.js`))) as { extractSnapshot?: Extract };
      if (typeof m.extractSnapshot === 'function') return (found = m.extractSnapshot);
    } catch {
      /* not this module */
    }
  }
  throw new Error(
    'This agent cannot extract code snapshots: lib/snapshots has no extractSnapshot (is the agent built from a complete checkout?).',
  );
}

/** Extracts `ref` (`snapshot:sha256:<hex>`) into `dir`. */
export async function extractCode(ref: string, dir: string): Promise<void> {
  const extract = await locate();
  await extract(ref, dir);
}
