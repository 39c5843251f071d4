/**
 * Reaching a service that restarts. The local service keeps its endpoints across restarts (the API port,
 * and the embedded stack's ports: lib/stack/ports.ts), so an agent or a CLI that finds it gone only has to
 * wait and try again: `reconnecting(fn)` retries `fn` while the failure says "nobody answered" (connection
 * refused or reset), never when the service answered (a 4xx/5xx is the caller's business).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Error codes (Node, undici, Azure SDK) that mean the service could not be reached. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'REQUEST_SEND_ERROR',
]);

function codes(e: unknown, depth = 0): string[] {
  if (!e || typeof e !== 'object' || depth > 5) return [];
  const x = e as { code?: unknown; cause?: unknown; errors?: unknown };
  return [
    ...(typeof x.code === 'string' ? [x.code] : []),
    ...codes(x.cause, depth + 1),
    // A connect attempt to several addresses fails with one error per address.
    ...(Array.isArray(x.errors) ? x.errors.flatMap((c) => codes(c, depth + 1)) : []),
  ];
}

/** True when `e` (or an error it wraps) says the service could not be reached, not that it refused. */
export function isUnreachable(e: unknown): boolean {
  return codes(e).some((c) => UNREACHABLE.has(c));
}

/** True when the request cannot have reached the service (the connection was refused): safe to send again. */
export function wasNeverSent(e: unknown): boolean {
  const c = codes(e);
  return c.includes('ECONNREFUSED') && !c.includes('ECONNRESET');
}

export interface ReconnectOptions {
  /** Give up once the service has been unreachable this long. @default 120000 */
  forMs?: number;
  /** First wait between attempts; doubles up to `maxDelayMs`. @default 250 */
  firstDelayMs?: number;
  /** @default 5000 */
  maxDelayMs?: number;
  /** Which failures to wait out. @default isUnreachable */
  retryable?: (e: unknown) => boolean;
  /** Called once when the service is found unreachable (to say that we wait). */
  onLost?: (e: unknown) => void;
  /** Called once when it answers again after `onLost`. */
  onBack?: () => void;
}

/** Runs `fn`, trying again while the service is unreachable (for up to `forMs`); other errors pass through. */
export async function reconnecting<T>(fn: () => Promise<T>, opts: ReconnectOptions = {}): Promise<T> {
  const retryable = opts.retryable ?? isUnreachable;
  const maxDelay = opts.maxDelayMs ?? 5000;
  let delay = opts.firstDelayMs ?? 250;
  let lostAt: number | undefined;
  for (;;) {
    try {
      const r = await fn();
      if (lostAt !== undefined) opts.onBack?.();
      return r;
    } catch (e) {
      if (!retryable(e)) throw e;
      const now = Date.now();
      if (lostAt === undefined) {
        lostAt = now;
        opts.onLost?.(e);
      }
      if (now + delay - lostAt > (opts.forMs ?? 120_000)) throw e;
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
