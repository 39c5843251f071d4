import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import type { CacheComponents } from './cache-key';
import type { StepOutputRef } from './plan';
import { isStatus } from './store';

/**
 * The step cache: Cosmos container `cache`, partition `/key`. Three small document kinds, each a point
 * read or write:
 * - `entry` in partition `<cache key>`: the latest successful execution of that key, with its outputs.
 * - `claim` in partition `<cache key>`: an execution in flight (single-flight reservation, etag-guarded).
 * - `latest` in partition `step:<pipeline>/<step>`: the components of the latest execution of that step,
 *   which "why did this run?" diffs against.
 * - `waiter:<run>:<step>` in partition `<cache key>`: a run following the claim holder (single-flight),
 *   told of the holder's result by an event rather than finding it by polling.
 */

export const CACHE_CONTAINER = 'cache';

export interface CacheEntry {
  id: 'entry';
  key: string;
  runId: string;
  step: string;
  pipeline: string;
  outputs: Record<string, StepOutputRef>;
  components: CacheComponents;
  createdAt: string;
}

export interface CacheClaim {
  id: 'claim';
  key: string;
  runId: string;
  step: string;
  jobId: string;
  /** Epoch ms after which the claim is abandoned (its holder crashed or hangs) and may be taken over. */
  expiresAt: number;
  _etag?: string;
}

export interface LatestExecution {
  id: 'latest';
  key: string;
  runId: string;
  cacheKey: string;
  components: CacheComponents;
  at: string;
}

export const stepKey = (pipeline: string, step: string): string => `step:${pipeline}/${step}`;

export async function cacheContainer(): Promise<Container> {
  return getClients().container(CACHE_CONTAINER, '/key');
}

async function read<T>(id: string, key: string): Promise<(T & { _etag?: string }) | undefined> {
  const c = await cacheContainer();
  try {
    const r = await c.item(id, key).read<T & { _etag?: string }>();
    return r.resource ?? undefined;
  } catch (e) {
    if (isStatus(e, 404)) return undefined;
    throw e;
  }
}

export const readEntry = (key: string): Promise<CacheEntry | undefined> => read<CacheEntry>('entry', key);
export const readLatest = (pipeline: string, step: string): Promise<LatestExecution | undefined> =>
  read<LatestExecution>('latest', stepKey(pipeline, step));

export async function writeEntry(e: Omit<CacheEntry, 'id'>): Promise<void> {
  await (await cacheContainer()).items.upsert({ id: 'entry', ...e });
}

export async function writeLatest(
  e: Omit<LatestExecution, 'id' | 'key'> & { pipeline: string; step: string },
): Promise<void> {
  const { pipeline, step, ...rest } = e;
  await (await cacheContainer()).items.upsert({ id: 'latest', key: stepKey(pipeline, step), ...rest });
}

/**
 * Takes the in-flight claim for `key`, or reports who holds it. An expired claim, or one held by the
 * same run and step (a retried activity), is taken over under its etag.
 */
export async function claim(
  c: Omit<CacheClaim, 'id'>,
  now: number,
): Promise<{ taken: true } | { taken: false; holder: CacheClaim }> {
  const container = await cacheContainer();
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await container.items.create({ id: 'claim', ...c });
      return { taken: true };
    } catch (e) {
      if (!isStatus(e, 409)) throw e;
    }
    const holder = await read<CacheClaim>('claim', c.key);
    if (!holder) continue;
    const mine = holder.runId === c.runId && holder.step === c.step;
    if (!mine && holder.expiresAt > now) return { taken: false, holder };
    try {
      await container.item('claim', c.key).replace(
        { id: 'claim', ...c },
        {
          accessCondition: { type: 'IfMatch', condition: holder._etag! },
        },
      );
      return { taken: true };
    } catch (e) {
      if (!isStatus(e, 412) && !isStatus(e, 404)) throw e;
    }
  }
  const holder = await read<CacheClaim>('claim', c.key);
  if (holder) return { taken: false, holder };
  throw new Error(`cache claim for ${c.key}: too much contention`);
}

/** Releases a claim if this run and step still hold it. */
export async function release(key: string, runId: string, step: string): Promise<void> {
  const holder = await read<CacheClaim>('claim', key);
  if (!holder || holder.runId !== runId || holder.step !== step) return;
  try {
    await (
      await cacheContainer()
    )
      .item('claim', key)
      .delete({ accessCondition: { type: 'IfMatch', condition: holder._etag! } });
  } catch (e) {
    if (!isStatus(e, 404) && !isStatus(e, 412)) throw e;
  }
}

export interface CacheWaiter {
  id: string;
  key: string;
  runId: string;
  step: string;
}

/** Registers `runId`'s `step` as following the holder of `key`'s claim. Idempotent. */
export async function addWaiter(key: string, runId: string, step: string): Promise<void> {
  const doc: CacheWaiter = { id: waiterId(runId, step), key, runId, step };
  await (await cacheContainer()).items.upsert(doc);
}

/** The runs following `key`'s claim, removed as they are returned (each is told once). */
export async function takeWaiters(key: string): Promise<CacheWaiter[]> {
  const c = await cacheContainer();
  const { resources } = await c.items
    .query<CacheWaiter>({
      // The emulator ignores the partitionKey option on queries: the key is in the filter too.
      query: 'SELECT * FROM c WHERE c.key = @key AND STARTSWITH(c.id, "waiter:")',
      parameters: [{ name: '@key', value: key }],
    })
    .fetchAll();
  await Promise.all(
    resources.map((w) =>
      c
        .item(w.id, key)
        .delete()
        .catch((e: unknown) => {
          if (!isStatus(e, 404)) throw e;
        }),
    ),
  );
  return resources;
}

// Cosmos ids may not contain '/', '\\', '?', '#'.
const waiterId = (runId: string, step: string): string =>
  `waiter:${encodeURIComponent(runId)}:${encodeURIComponent(step)}`;

/** Drops `runId`'s `step` from the runs following `key`'s claim (the follower ended first). */
export async function removeWaiter(key: string, runId: string, step: string): Promise<void> {
  try {
    await (await cacheContainer()).item(waiterId(runId, step), key).delete();
  } catch (e) {
    if (!isStatus(e, 404)) throw e;
  }
}

/**
 * Every claim and waiter registration `runId` still has, removed: a run that ends or is deleted holds
 * none. Returns the claims it removed (their followers may be told).
 */
export async function releaseRunClaims(runId: string): Promise<CacheClaim[]> {
  const c = await cacheContainer();
  const { resources } = await c.items
    .query<CacheClaim | CacheWaiter>({
      query: 'SELECT * FROM c WHERE c.runId = @run AND (c.id = "claim" OR STARTSWITH(c.id, "waiter:"))',
      parameters: [{ name: '@run', value: runId }],
    })
    .fetchAll();
  const claims: CacheClaim[] = [];
  await Promise.all(
    resources.map(async (d) => {
      try {
        await c
          .item(d.id, d.key)
          .delete(
            d.id === 'claim' && '_etag' in d && d._etag
              ? { accessCondition: { type: 'IfMatch', condition: d._etag } }
              : {},
          );
        if (d.id === 'claim') claims.push(d as CacheClaim);
      } catch (e) {
        if (!isStatus(e, 404) && !isStatus(e, 412)) throw e;
      }
    }),
  );
  return claims;
}
