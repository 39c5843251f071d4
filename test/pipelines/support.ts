/**
 * PIPELINES test support: the real host (child process, embedded Azurite + Cosmos server, real HTTP)
 * serving only the compiled PIPELINES functions (test/fixtures/pipelines/app), so these scenarios
 * do not depend on the durable engine or the runs feature.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHostProcess, type SluiceProcess } from '../support/sluice';
import { validateDefinitionText } from '../../lib/pipelines/validate';

export const ROOT = join(__dirname, '..', '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'pipelines');

export function startPipelinesApi(): Promise<SluiceProcess> {
  return startHostProcess(join(FIXTURES, 'app'), { readyPath: '/api/openapi.json' });
}

/** The example pipeline (test/fixtures/pipelines/churn/pipeline.yaml) as a plain value. */
export function churnDefinition(): Record<string, any> {
  const r = validateDefinitionText(readFileSync(join(FIXTURES, 'churn', 'pipeline.yaml'), 'utf8'));
  return structuredClone(r.value) as Record<string, any>;
}

/** Applies a stack's settings to this process (for Azure clients in the test), returning an undo. */
export function useStackEnv(env: Record<string, string>): () => void {
  const previous: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    previous[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
