import { artifactType, readManifest } from '../data/cas';
import { createVersion, type DatasetSource } from '../data/datasets';
import type { StepDefinition } from '../pipelines/steps-schema';
import type { StepOutputRef } from './plan';

/**
 * The `dataTransfer` step kind. The store is content-addressed, so copying data inside the storage
 * account is registering the same hash under the destination: no bytes move and no agent is involved.
 * That is why it runs inside the `runs-advance` activity (see README "Step kinds").
 */

/** The command template a dataTransfer step is keyed and explained by (it has no user command). */
export function transferTemplate(destination: string): string {
  return `dataTransfer → dataset ${destination}`;
}

/**
 * Registers `source` as the next version of dataset `destination` (unchanged content keeps the latest
 * version) and returns the step's `data` output. Fails with the store's message when the source is gone.
 */
export async function transferToDataset(
  destination: string,
  source: { hash: string; type: 'file' | 'directory' },
  from: { runId: string; step: string; output?: string },
): Promise<StepOutputRef> {
  // Reading the stored object proves the source still exists and gives its real type and size.
  const stored = await artifactType(source.hash);
  let size = stored.size;
  let files = 1;
  if (stored.type === 'directory') {
    const manifest = await readManifest(source.hash);
    files = manifest.length;
    size = manifest.reduce((n, e) => n + e.size, 0);
  }
  const provenance: DatasetSource = {
    kind: 'run',
    runId: from.runId,
    step: from.step,
    ...(from.output ? { output: from.output } : {}),
  };
  await createVersion(destination, { hash: source.hash, type: stored.type, size, files }, provenance);
  return { type: stored.type, hash: source.hash, size };
}

/**
 * Registers every output whose definition names a `dataset` as that dataset's next version once its step
 * succeeded (fresh or Reused). Unchanged content keeps the latest version, so this is safe to repeat.
 */
export async function registerOutputDatasets(
  def: StepDefinition | undefined,
  outputs: Record<string, StepOutputRef>,
  from: { runId: string; step: string },
): Promise<void> {
  const declared = (def as { outputs?: Record<string, { dataset?: string }> } | undefined)?.outputs ?? {};
  await Promise.all(
    Object.entries(declared)
      .filter(([name, o]) => o?.dataset && outputs[name])
      .map(([name, o]) => transferToDataset(o.dataset!, outputs[name]!, { ...from, output: name })),
  );
}
