/**
 * Function-level retry policies (`retry` in app.timer/app.generic options), as the Functions host
 * applies them to timer triggers: `fixedDelay` waits `delayInterval` between attempts,
 * `exponentialBackoff` starts at `minimumInterval` and doubles up to `maximumInterval`.
 * `maxRetryCount` -1 retries until the host stops. Pure logic.
 */
export interface RetryPolicy {
  /** Retries after the first attempt; -1 = no limit. */
  maxRetryCount: number;
  /** Wait before retry number `retryCount` (1-based). */
  delayMs(retryCount: number): number;
}

interface RpcDuration {
  seconds?: number | string;
  nanos?: number;
}

const ms = (d: RpcDuration | undefined): number =>
  d ? Number(d.seconds ?? 0) * 1000 + Math.round(Number(d.nanos ?? 0) / 1e6) : 0;

/** The policy in registered `retryOptions`, or undefined when there is none (or it is malformed). */
export function retryPolicy(retryOptions: unknown): RetryPolicy | undefined {
  if (!retryOptions || typeof retryOptions !== 'object') return undefined;
  const o = retryOptions as {
    maxRetryCount?: number;
    retryStrategy?: string;
    delayInterval?: RpcDuration;
    minimumInterval?: RpcDuration;
    maximumInterval?: RpcDuration;
  };
  const maxRetryCount = Number(o.maxRetryCount);
  if (!Number.isInteger(maxRetryCount) || maxRetryCount < -1 || maxRetryCount === 0) return undefined;
  const strategy = String(o.retryStrategy ?? '').toLowerCase();
  if (strategy === 'fixeddelay' || strategy === 'fixed_delay') {
    const delay = ms(o.delayInterval);
    return { maxRetryCount, delayMs: () => delay };
  }
  if (strategy === 'exponentialbackoff' || strategy === 'exponential_backoff') {
    const min = ms(o.minimumInterval);
    const max = Math.max(min, ms(o.maximumInterval));
    return { maxRetryCount, delayMs: (n) => Math.min(max, min * 2 ** Math.min(30, Math.max(0, n - 1))) };
  }
  return undefined;
}
