/**
 * host.json `extensions.queues` with the Functions defaults, and the TimeSpan durations host.json uses
 * (also for `functionTimeout` and `singleton`). Pure: a bad value throws `QueueConfigError` naming it.
 */
import { availableParallelism } from 'node:os';

export class QueueConfigError extends Error {
  override name = 'QueueConfigError';
}

/** Parses a host.json duration: `"hh:mm:ss[.fff]"`, `"d.hh:mm:ss"`, or a number of milliseconds. */
export function parseDuration(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(value.trim());
    if (m) {
      const [, d, h, mi, s, f] = m;
      return (
        ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(mi)) * 60_000 +
        Number(s) * 1000 +
        (f ? Math.round(Number('0.' + f) * 1000) : 0)
      );
    }
  }
  throw new QueueConfigError(
    `host.json ${what} is ${JSON.stringify(value)}; use a TimeSpan like "00:00:30".`,
  );
}

export interface QueueSettings {
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  messageEncoding: 'base64' | 'none';
}

/** `extensions.queues` with the Functions defaults (reference §7). */
export function queueSettings(hostJson: Record<string, any>): QueueSettings {
  const q = (hostJson?.extensions?.queues ?? {}) as Record<string, unknown>;
  const batchSize = Math.min(32, Math.max(1, Number(q.batchSize ?? 16) || 16));
  const encoding = String(q.messageEncoding ?? 'base64').toLowerCase();
  if (encoding !== 'base64' && encoding !== 'none')
    throw new QueueConfigError(
      `host.json extensions.queues.messageEncoding is "${encoding}"; use "base64" or "none".`,
    );
  return {
    maxPollingIntervalMs: Math.max(
      100,
      parseDuration(q.maxPollingInterval, 'extensions.queues.maxPollingInterval') ?? 60_000,
    ),
    visibilityTimeoutMs: parseDuration(q.visibilityTimeout, 'extensions.queues.visibilityTimeout') ?? 0,
    batchSize,
    newBatchThreshold: Math.max(
      0,
      Number(q.newBatchThreshold ?? Math.floor((availableParallelism() * batchSize) / 2)),
    ),
    maxDequeueCount: Math.max(1, Number(q.maxDequeueCount ?? 5) || 5),
    messageEncoding: encoding,
  };
}
