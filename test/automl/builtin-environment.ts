import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinAutomlEnvironment } from '../../lib/automl/environment';
import { prepareEnvironment, type PreparedEnvironment } from '../../lib/environments/builder';
import { normalizeSpec } from '../../lib/environments/spec';

/**
 * The built-in AutoML environment as an agent builds it (lib/environments, uv, the default
 * SLUICE_ENV_CACHE_DIR), for tests and the bench that run the runtime's Python directly: built once per
 * machine, then taken from the cache.
 */
export async function builtinAutomlPython(
  log: (line: string) => void = () => {},
): Promise<PreparedEnvironment & { python: string; run: Record<string, string> }> {
  const { spec } = normalizeSpec(builtinAutomlEnvironment());
  const codeDir = mkdtempSync(join(tmpdir(), 'sluice-automl-env-'));
  const p = await prepareEnvironment(spec, { codeDir, log });
  p.release();
  return {
    ...p,
    python: join(p.env.VIRTUAL_ENV!, 'bin', 'python'),
    run: { ...process.env, ...p.env } as Record<string, string>,
  };
}
