/**
 * In-process signals between the code that enqueues or cancels jobs (lib/runs) and the agents running in
 * the same process (the local agent of `sluice start`), so a job starts within milliseconds of enqueue
 * and a cancel lands at once. Remote agents do not hear these; they poll the queue and the job row.
 * Held on `globalThis` so the host's module copy and the loaded app's copy share one bus.
 */
import { EventEmitter } from 'node:events';
import type { JobRow } from './jobs';

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

/**
 * Tells in-process agents of `pool` that a job message is waiting. Cheap; call after every enqueue.
 * With the enqueued row, an idle in-process agent claims it at once, without a queue round trip (the
 * message is dropped later by whoever receives it, since the job is no longer queued).
 */
export function wakeAgents(
  pool: string,
  enqueued?: JobRow,
  message?: Promise<QueuedMessage | undefined>,
): void {
  bus().emit(`wake:${pool}`, enqueued, message);
}

/** The queue message of an enqueued job, so the agent that took it in-process can delete it. */
export interface QueuedMessage {
  messageId: string;
  popReceipt: string;
}

export function onWake(
  pool: string,
  fn: (enqueued?: JobRow, message?: Promise<QueuedMessage | undefined>) => void,
): () => void {
  const b = bus();
  b.on(`wake:${pool}`, fn);
  return () => b.off(`wake:${pool}`, fn);
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
