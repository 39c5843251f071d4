import type { Command } from 'commander';
import { isUnreachable, reconnecting, wasNeverSent } from '../compute/reconnect';

/** Default endpoint: the local host started by `npm start`. */
export const DEFAULT_ENDPOINT = 'http://localhost:7071';

export interface ApiClientOptions {
  endpoint?: string;
  key?: string;
  /** How long a service that answered before may be gone (restarting) before a call fails. @default 120000 */
  reconnectMs?: number;
}

/** An RFC 7807 problem returned by the API, kept whole so the CLI can print every field problem. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: {
      title?: string;
      detail?: string;
      errors?: Array<{ pointer: string; message: string }>;
    } & Record<string, unknown>,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

/** The service answered 503 with Retry-After: it is (re)starting. */
class StillStarting extends Error {}

/** A small client for the Sluice REST API, used by every CLI command. */
export class ApiClient {
  readonly endpoint: string;
  private readonly key: string | undefined;
  private readonly reconnectMs: number;

  constructor(opts: ApiClientOptions = {}) {
    this.reconnectMs = opts.reconnectMs ?? 120_000;
    this.endpoint = (opts.endpoint || process.env.SLUICE_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
    this.key = opts.key || process.env.SLUICE_KEY || undefined;
  }

  /** Options from the root program (`--endpoint`, `--key`). */
  static fromCommand(cmd: Command): ApiClient {
    let root: Command = cmd;
    while (root.parent) root = root.parent;
    return new ApiClient(root.opts() as ApiClientOptions);
  }

  url(path: string): string {
    return `${this.endpoint}/api${path.startsWith('/') ? path : '/' + path}`;
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.key) headers.set('x-functions-key', this.key);
    let res: Response;
    try {
      res = await this.send(path, { ...init, headers });
      this.reached = true;
    } catch (e) {
      throw new Error(
        `cannot reach Sluice at ${this.endpoint} (${(e as Error).cause ?? (e as Error).message}); ` +
          'start it with `npm start`, or pass --endpoint / set SLUICE_ENDPOINT',
      );
    }
    if (!res.ok) {
      const text = await res.text();
      let problem: Record<string, unknown>;
      try {
        problem = JSON.parse(text) as Record<string, unknown>;
      } catch {
        problem = { detail: text || res.statusText };
      }
      throw new ApiError(res.status, problem);
    }
    return res;
  }

  /** Set once the service answered: from then on a restart of it is waited out (`reconnectMs`). */
  private reached = false;

  /**
   * Sends a request. A service that answered before and now does not is taken to be restarting (it keeps
   * its endpoint): the request is sent again for up to `reconnectMs`, if it cannot have arrived (connection
   * refused) or repeating it is harmless (GET, HEAD, PUT, DELETE, or an Idempotency-Key).
   */
  private send(path: string, init: RequestInit & { headers: Headers }): Promise<Response> {
    if (!this.reached) return fetch(this.url(path), init);
    const method = (init.method ?? 'GET').toUpperCase();
    const repeatable =
      ['GET', 'HEAD', 'PUT', 'DELETE'].includes(method) || init.headers.has('idempotency-key');
    const attempt = async (): Promise<Response> => {
      const res = await fetch(this.url(path), init);
      // A host that is still starting answers 503 with Retry-After before it handles anything.
      if (repeatable && res.status === 503 && res.headers.has('retry-after')) {
        await res.body?.cancel();
        throw new StillStarting(`${this.endpoint} answers 503 (starting)`);
      }
      return res;
    };
    return reconnecting(attempt, {
      forMs: this.reconnectMs,
      retryable: (e) => e instanceof StillStarting || (repeatable ? isUnreachable(e) : wasNeverSent(e)),
      onLost: () =>
        process.stderr.write(`Sluice at ${this.endpoint} does not answer (restarting?); waiting for it …\n`),
      onBack: () => process.stderr.write(`Sluice at ${this.endpoint} answers again\n`),
    });
  }

  async json<T = any>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  post<T = any>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.json<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }
}

/** The API error as CLI text: the detail, then one line per field problem with its JSON pointer. */
export function formatApiError(e: ApiError): string {
  return [e.message, ...(e.problem.errors ?? []).map((p) => `  ${p.pointer || '(body)'}: ${p.message}`)].join(
    '\n',
  );
}

/** Runs an API call; an API error becomes an Error whose message lists every field problem. */
export async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) throw new Error(formatApiError(e));
    throw e;
  }
}
