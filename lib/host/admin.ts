/**
 * The host's admin API (`/admin/…`), guarded by the master key when one is configured:
 *   GET|POST /admin/host/ping               200, no body, no key (the Functions host's liveness probe)
 *   GET  /admin/host/status                 state, host ID, functions, invocations in flight, timer leases
 *   GET  /admin/host/clock                  the process clock
 *   POST /admin/host/clock/advance?ms=N|to=ISO[&wait=true]   manual clock only
 *   POST /admin/functions/<name> {"input": …}               run a non-HTTP function once (Core Tools does too)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProblemError, invalid, notFound, type FieldProblem } from '../errors/problem';
import { ManualClock, type Clock } from './clock';
import { keyMatches, methodNotAllowed, presentedKey, readBody, sendJson, sendProblem } from './http-io';
import type { FunctionEntry, Invoker } from './invoker';
import type { HostExtension, RegisteredFunction } from './types';

export interface AdminDeps {
  state(): string;
  functions: ReadonlyMap<string, RegisteredFunction>;
  entries: ReadonlyMap<string, FunctionEntry>;
  extensionTriggers: ReadonlyMap<string, HostExtension>;
  invoker: Invoker;
  masterKey: string | undefined;
  clock: Clock;
  /** Bound on `wait=true`. */
  waitLimitMs: number;
  /** The app's host ID (names its timer leases and status in storage). */
  hostId: string;
  /** Per timer function: whether this host holds its listener lease. */
  timers(): Record<string, string>;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function tryParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** Returns a handler that answers `/admin/…` requests (true) or leaves the request alone (false). */
export function adminHandler(d: AdminDeps) {
  const advance = async (res: ServerResponse, url: URL): Promise<void> => {
    const clock = d.clock;
    if (!(clock instanceof ManualClock)) {
      sendProblem(
        res,
        new ProblemError(
          'conflict',
          'The host runs on the system clock; start it with SLUICE_MANUAL_CLOCK=1 to move time.',
        ),
        url.pathname,
      );
      return;
    }
    const ms = url.searchParams.get('ms');
    const to = url.searchParams.get('to');
    const problems: FieldProblem[] = [];
    let target: number | undefined;
    if (ms !== null) {
      if (!/^\d{1,15}$/.test(ms))
        problems.push({ pointer: '/ms', message: 'ms must be a whole number of milliseconds (>= 0).' });
      else target = clock.now() + Number(ms);
    } else if (to !== null) {
      const t = Date.parse(to);
      if (Number.isNaN(t))
        problems.push({ pointer: '/to', message: 'to must be an ISO 8601 time, e.g. 2026-01-01T00:00:00Z.' });
      else target = t;
    } else problems.push({ pointer: '', message: 'Give ?ms=N or ?to=<ISO time>.' });
    if (problems.length) return sendProblem(res, invalid(problems), url.pathname);
    clock.set(target!);
    if (url.searchParams.get('wait') === 'true') {
      // Let fired timers start their invocations, then wait (bounded) for the host to go idle.
      await new Promise((r) => setImmediate(r));
      await d.invoker.drain(d.waitLimitMs);
    }
    sendJson(res, 200, { now: new Date(clock.now()).toISOString(), manual: true });
  };

  const runFunction = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    rawName: string,
  ): Promise<void> => {
    const name = safeDecode(rawName);
    const entry = name === undefined ? undefined : d.entries.get(name);
    if (!entry) return sendProblem(res, notFound(`No function named "${name ?? rawName}".`), url.pathname);
    if (entry.isHttp || d.extensionTriggers.has(entry.triggerType))
      return sendProblem(
        res,
        new ProblemError(
          'conflict',
          `Function "${entry.fn.name}" cannot be started through the admin API; call its own trigger.`,
        ),
        url.pathname,
      );
    const body = (await readBody(req, 1024 * 1024)).toString('utf8');
    let input: unknown;
    if (body.trim()) {
      let doc: unknown;
      try {
        doc = JSON.parse(body);
      } catch (e) {
        return sendProblem(
          res,
          invalid([{ pointer: '', message: `The body is not valid JSON: ${(e as Error).message}` }]),
          url.pathname,
        );
      }
      if (!doc || typeof doc !== 'object' || Array.isArray(doc))
        return sendProblem(
          res,
          invalid([{ pointer: '', message: 'Send an object like {"input": "…"}.' }]),
          url.pathname,
        );
      input = (doc as { input?: unknown }).input;
    }
    const value =
      entry.triggerType === 'timertrigger'
        ? { schedule: { adjustForDST: true }, scheduleStatus: undefined, isPastDue: false }
        : typeof input === 'string'
          ? tryParse(input)
          : input;
    // Failures are in the host log, like any invocation; the caller only starts it.
    d.invoker.invoke(entry, { value, logDetail: 'admin' }).catch(() => {});
    res.writeHead(202).end();
  };

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname.replace(/\/+$/, '');
    if (!path.startsWith('/admin/')) return false;
    const method = req.method ?? 'GET';
    if (path === '/admin/host/ping') {
      // Anonymous, as on Azure: the durable extension's smoke scripts call it before anything else.
      if (method !== 'GET' && method !== 'POST') return methodNotAllowed(res, url, ['GET', 'POST']);
      res.writeHead(200, { 'content-length': 0 }).end();
      return true;
    }
    if (d.masterKey && !keyMatches(presentedKey(req, url), d.masterKey)) {
      sendProblem(
        res,
        new ProblemError('unauthorized', 'The admin API needs the master key (x-functions-key).'),
        url.pathname,
      );
      return true;
    }
    if (path === '/admin/host/status') {
      if (method !== 'GET') return methodNotAllowed(res, url, ['GET']);
      sendJson(res, 200, {
        state: d.state(),
        hostId: d.hostId,
        functions: [...d.functions.keys()],
        inFlight: d.invoker.active,
        timers: d.timers(),
      });
    } else if (path === '/admin/host/clock') {
      if (method !== 'GET') return methodNotAllowed(res, url, ['GET']);
      sendJson(res, 200, { now: new Date(d.clock.now()).toISOString(), manual: d.clock.manual });
    } else if (path === '/admin/host/clock/advance') {
      if (method !== 'POST') return methodNotAllowed(res, url, ['POST']);
      await advance(res, url);
    } else {
      const m = /^\/admin\/functions\/([^/]+)$/.exec(path);
      if (!m) sendProblem(res, notFound(`No admin endpoint at ${url.pathname}.`), url.pathname);
      else if (method !== 'POST') return methodNotAllowed(res, url, ['POST']);
      else await runFunction(req, res, url, m[1]!);
    }
    return true;
  };
}
