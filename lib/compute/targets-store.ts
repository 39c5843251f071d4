/**
 * The compute targets store: Cosmos container `computeTargets`, partition `/name`, one document per
 * target. `SLUICE_COMPUTE_TARGETS` (or the default `local` target) seeds it: each seed is created when
 * missing, on the first read of a process, and never overwrites a stored target. Reads are cached for
 * about a second, so a PUT or DELETE takes effect at publish and run start without a restart.
 */
import { getClients } from '../azure/clients';
import { getClock } from '../host/clock';
import type { StepResources } from './job';
import { effectiveResources, loadComputeTargets, type ComputeTarget } from './targets';

export const TARGETS_CONTAINER = 'computeTargets';
const CACHE_MS = 1000;

interface TargetDoc extends ComputeTarget {
  id: string;
}

const code = (e: unknown): number | undefined => (e as { code?: number })?.code;

async function container() {
  return getClients().container(TARGETS_CONTAINER, '/name');
}

let seeded: { key: string; done: Promise<void> } | undefined;
let cache: { key: string; at: number; targets: Promise<Map<string, ComputeTarget>> } | undefined;

function clientsKey(): string {
  const s = getClients().settings;
  return `${s.cosmosEndpoint}|${s.cosmosDatabase}|${process.env.SLUICE_COMPUTE_TARGETS ?? ''}`;
}

/** Creates the seed targets that are missing (once per process and stack). */
async function seed(): Promise<void> {
  const key = clientsKey();
  if (seeded?.key === key) return seeded.done;
  const done = (async () => {
    const c = await container();
    const now = new Date(getClock().now()).toISOString();
    for (const t of Object.values(loadComputeTargets())) {
      try {
        await c.items.create<TargetDoc>({ ...t, id: t.name, updatedAt: now });
      } catch (e) {
        if (code(e) !== 409) throw e;
      }
    }
  })();
  seeded = { key, done };
  done.catch(() => (seeded = undefined));
  return done;
}

function fromDoc(d: TargetDoc): ComputeTarget {
  const t: ComputeTarget = {
    name: d.name,
    backend: d.backend ?? 'agent',
    pool: d.pool,
    environment: d.environment ?? {},
  };
  if (d.slurm) t.slurm = d.slurm;
  if (d.resources) t.resources = d.resources;
  if (d.defaults) t.defaults = d.defaults;
  if (d.updatedAt) t.updatedAt = d.updatedAt;
  return t;
}

/** Every target, by name (seeded on first use). */
export async function listComputeTargets(): Promise<Map<string, ComputeTarget>> {
  const key = clientsKey();
  const now = Date.now();
  if (cache && cache.key === key && now - cache.at < CACHE_MS) return cache.targets;
  const targets = (async () => {
    await seed();
    const c = await container();
    const { resources } = await c.items.readAll<TargetDoc>().fetchAll();
    return new Map(
      resources
        .map(fromDoc)
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((t) => [t.name, t]),
    );
  })();
  cache = { key, at: now, targets };
  targets.catch(() => (cache = undefined));
  return targets;
}

/**
 * The names of the targets now: what publish validates a step's `compute:` against (lib/pipelines).
 */
export async function listComputeTargetNames(): Promise<string[]> {
  return [...(await listComputeTargets()).keys()];
}

/** One target by name, or undefined; callers turn that into a problem with their own pointer. */
export async function getComputeTarget(name: string): Promise<ComputeTarget | undefined> {
  return (await listComputeTargets()).get(name);
}

/** Creates or replaces a target; returns whether it was created. */
export async function putComputeTarget(
  t: ComputeTarget,
): Promise<{ created: boolean; target: ComputeTarget }> {
  await seed();
  const c = await container();
  const existed = await c
    .item(t.name, t.name)
    .read<TargetDoc>()
    .then((r) => r.resource !== undefined)
    .catch((e: unknown) => (code(e) === 404 ? false : Promise.reject(e)));
  const doc: TargetDoc = { ...t, id: t.name, updatedAt: new Date(getClock().now()).toISOString() };
  await c.items.upsert(doc);
  cache = undefined;
  return { created: !existed, target: fromDoc(doc) };
}

/** Deletes a target; false when there was none. */
export async function deleteComputeTarget(name: string): Promise<boolean> {
  await seed();
  const c = await container();
  try {
    await c.item(name, name).delete();
    cache = undefined;
    return true;
  } catch (e) {
    if (code(e) === 404) return false;
    throw e;
  }
}

/**
 * For publish (lib/pipelines): what is wrong with a step's `compute:` and `resources:` against the targets
 * now, as messages (empty when fine). Run start checks the same again (dispatch.ts), since targets change.
 */
export async function stepComputeProblems(compute: string, resources?: StepResources): Promise<string[]> {
  const targets = await listComputeTargets();
  const t = targets.get(compute);
  if (!t)
    return [
      `compute target "${compute}" does not exist; the targets are ${[...targets.keys()].map((n) => `"${n}"`).join(', ') || 'none'} (sluice compute list)`,
    ];
  return effectiveResources(resources, t).problems;
}

/**
 * For publish and run start (lib/pipelines, lib/runs): each step's `resources` against its target's
 * limits, as `{pointer, message}` problems (steps naming an unknown target are left to the name check).
 */
export async function stepResourceProblems(
  steps: Record<string, { compute?: string; resources?: StepResources }>,
  defaultCompute = 'local',
): Promise<Array<{ pointer: string; message: string }>> {
  const targets = await listComputeTargets();
  const out: Array<{ pointer: string; message: string }> = [];
  for (const [name, s] of Object.entries(steps)) {
    const t = targets.get(s.compute ?? defaultCompute);
    if (!t) continue;
    for (const p of effectiveResources(s.resources, t).problems)
      out.push({
        pointer: `/steps/${name.replace(/~/g, '~0').replace(/\//g, '~1')}/resources`,
        message: `Step "${name}" ${p}.`,
      });
  }
  return out;
}
