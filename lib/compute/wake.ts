/**
 * In-process signals between the code that enqueues or cancels jobs (lib/runs) and the agents running in
 * the same process (the local agent of `sluice start`), so a job starts within milliseconds of enqueue
 * and a cancel lands at once. Remote agents do not hear these; they poll the queue and the job row.
 * Held on `globalThis` so the host's module copy and the loaded app's copy share one bus.
 */
import { EventEmitter } from 'node:events';
import type { JobSpec } from './job';
import type { JobRow } from './job-row';

const KEY = Symbol.for('sluice.compute.wake');

function bus(): EventEmitter {
  const g = globalThis as unknown as Record<symbol, EventEmitter | undefined>;
  let b = g[KEY];
  if (!b) {
    b = new EventEmitter();
    b.setMaxListeners(0);
    g[KEY] = b;
  }
  return b;
}

/** Tells in-process agents of `pool` that a job message is waiting on the queue. Cheap. */
export function wakeAgents(pool: string): void {
  bus().emit(`wake:${pool}`);
}

export function onWake(pool: string, fn: () => void): () => void {
  const b = bus();
  b.on(`wake:${pool}`, fn);
  return () => b.off(`wake:${pool}`, fn);
}

/**
 * A slot an in-process agent holds for a job being enqueued: `enqueueJob` creates the row already
 * claimed by `agentId` and hands it over with `start` (no queue message, no claim round trip), or gives
 * the slot back with `release` when the row could not be created.
 */
export interface Reservation {
  agentId: string;
  start(row: JobRow): void;
  release(): void;
}

/** Given the job, an agent with room for its resources reserves them, or gives undefined. */
type Taker = (spec: JobSpec) => Reservation | undefined;

function takers(pool: string): Set<Taker> {
  const b = bus() as EventEmitter & { takers?: Map<string, Set<Taker>> };
  b.takers ??= new Map();
  let set = b.takers.get(pool);
  if (!set) b.takers.set(pool, (set = new Set()));
  return set;
}

/** An in-process agent of `pool` with room for the job reserves it, or undefined (the job goes by queue). */
export function reserveInProcess(pool: string, spec: JobSpec): Reservation | undefined {
  for (const take of takers(pool)) {
    const r = take(spec);
    if (r) return r;
  }
  return undefined;
}

export function onReserve(pool: string, take: Taker): () => void {
  takers(pool).add(take);
  return () => takers(pool).delete(take);
}

/** Tells in-process agents that a job's cancel was requested (the job row is the durable record). */
export function signalCancel(runId: string, jobId: string): void {
  bus().emit('cancel', runId, jobId);
}

export function onCancel(fn: (runId: string, jobId: string) => void): () => void {
  const b = bus();
  b.on('cancel', fn);
  return () => b.off('cancel', fn);
}
