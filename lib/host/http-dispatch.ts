/**
 * Every HTTP request the host receives: admin API, then app routes under the route prefix (keys,
 * 404/405, invocation), then extensions (the durable engine's webhooks), then 404 — all host errors
 * as RFC 7807 problems. Requests while starting or stopping get 503.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { ProblemError, invalid } from '../errors/problem';
import { bindingData } from './blobs';
import type { Registry } from './core-api';
import type { AppLibrary } from './app-library';
import {
  headerRecord,
  httpRequestData,
  keyMatches,
  methodNotAllowed,
  presentedKey,
  queryMap,
  readBody,
  sendHttpResult,
  sendProblem,
  tooLarge,
} from './http-io';
import { exceptionMessage, type FunctionEntry, type Invoker } from './invoker';
import type { RouteTable } from './routes';
import type { HostExtension, HostLogger } from './types';

export interface DispatchDeps {
  state(): 'starting' | 'running' | 'stopping' | 'stopped';
  baseUrl(): string;
  prefix: string;
  routes: RouteTable<FunctionEntry>;
  invoker: Invoker;
  registry: Registry;
  functionKey: string | undefined;
  masterKey: string | undefined;
  extensions: readonly HostExtension[];
  handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** The app's own @azure/functions (what its version reads; HttpRequest for apps with HTTP streams). */
  library: AppLibrary;
  /** `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` in bytes. */
  bodyLimit: number;
  /** local.settings.json `Host.CORS` / `Host.CORSCredentials`, as Core Tools applies them. */
  cors?: { origins: string[]; credentials: boolean };
  log: HostLogger;
}

/** The URL the client used (its Host header), as Azure gives it; the listening address otherwise. */
export function requestUrl(req: IncomingMessage, baseUrl: string): string {
  const host = req.headers.host;
  if (host && /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host)) {
    try {
      return new URL(req.url ?? '/', `http://${host}`).href;
    } catch {
      // fall through to the listening address
    }
  }
  return `${baseUrl}${req.url ?? '/'}`;
}

/** A path no function serves: 404 with an empty body, as the Functions host answers. */
function notFoundEmpty(res: ServerResponse): void {
  res.writeHead(404, { 'content-length': 0 }).end();
}

export function requestListener(
  d: DispatchDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const prefix = d.prefix.toLowerCase();
  const underPrefix = (path: string): boolean => {
    if (prefix === '') return true;
    const p = path.toLowerCase();
    return p === `/${prefix}` || p.startsWith(`/${prefix}/`);
  };

  const handleFunction = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    entry: FunctionEntry,
    params: Record<string, string>,
  ): Promise<void> => {
    const authLevel = String(entry.fn.trigger.authLevel ?? 'anonymous').toLowerCase();
    if (authLevel !== 'anonymous' && (d.functionKey || d.masterKey)) {
      const key = presentedKey(req, url);
      const ok =
        authLevel === 'admin' ? keyMatches(key, d.masterKey) : keyMatches(key, d.functionKey, d.masterKey);
      if (!ok)
        return sendProblem(
          res,
          new ProblemError(
            'unauthorized',
            `Function "${entry.fn.name}" needs ${authLevel === 'admin' ? 'the master key' : 'a function key'}: send it in the x-functions-key header or the code query parameter.`,
          ),
          url.pathname,
        );
    }
    const limit = d.bodyLimit;
    // As Kestrel: a declared length over the limit is refused before the function runs.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return sendProblem(res, tooLarge(limit), url.pathname, { connection: 'close' });
    const fullUrl = requestUrl(req, d.baseUrl());
    const query = d.library.readsQueryFromInvocationData ? queryMap(url) : undefined;
    const method = req.method ?? 'GET';
    // Apps that enabled HTTP streams on a library that takes a web Request get the body as it arrives.
    const streamed = d.registry.httpStreamRequested && d.library.streamsRequestBodies();
    let overLimit = false;
    const body = streamed ? Buffer.alloc(0) : await readBody(req, limit);
    const invocationId = randomUUID();
    // The path only: a `code` query parameter (a key) must never reach the log.
    const logDetail = `${method} ${url.pathname}`;
    // `{name}` in blob binding paths: route parameters, `query`, and a JSON body's top-level properties.
    const data = (): Record<string, unknown> => {
      let json: unknown;
      if (body.length && /json/i.test(String(req.headers['content-type'] ?? '')))
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          json = undefined;
        }
      return { ...bindingData(json, undefined, params), query: Object.fromEntries(url.searchParams) };
    };
    const streamRequest = (): unknown => {
      // Counted on the way through; past the limit the stream errors (the handler's read fails) and
      // the rest of the request is drained, so the 413 reaches the client rather than a reset.
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size <= limit) return done(null, chunk);
          overLimit = true;
          req.unpipe(counter);
          req.resume();
          done(tooLarge(limit));
        },
      });
      const hasBody = method !== 'GET' && method !== 'HEAD';
      if (hasBody) req.pipe(counter);
      const nativeRequest = new Request(fullUrl, {
        method,
        headers: headerRecord(req),
        ...(hasBody && { body: Readable.toWeb(counter), duplex: 'half' }),
      } as RequestInit);
      return new (d.library.HttpRequest())({ nativeRequest, params });
    };
    try {
      const result = d.registry.httpStreamRequested
        ? await d.invoker.invoke(entry, {
            replaceTrigger: streamed
              ? streamRequest
              : () => new (d.library.HttpRequest())(httpRequestData(req, fullUrl, params, body, query)),
            logDetail,
            invocationId,
            bindingData: data,
          })
        : await d.invoker.invoke(entry, {
            triggerData: { http: httpRequestData(req, fullUrl, params, body, query) },
            logDetail,
            invocationId,
            bindingData: data,
          });
      await sendHttpResult(res, result.returnValue, method);
    } catch (err) {
      if (overLimit) {
        if (!req.readableEnded) await new Promise((r) => req.once('end', r).once('close', r));
        return sendProblem(res, tooLarge(limit), url.pathname);
      }
      // The invoker logged the whole failure (message and stack) with this id; the caller gets the
      // message, which is what a developer running the app locally needs first.
      sendProblem(
        res,
        new ProblemError(
          'internal',
          `Function "${entry.fn.name}" failed (invocation ${invocationId}): ${exceptionMessage(err)}`,
          undefined,
          { invocationId },
        ),
        url.pathname,
      );
    }
  };

  /** Adds CORS headers for an allowed origin; answers preflights. True when the request is done. */
  const applyCors = (req: IncomingMessage, res: ServerResponse): boolean => {
    const cors = d.cors;
    const origin = req.headers.origin;
    if (!cors || !origin) return false;
    const any = cors.origins.includes('*');
    if (!any && !cors.origins.some((o) => o.toLowerCase() === origin.toLowerCase())) return false;
    res.setHeader('access-control-allow-origin', any && !cors.credentials ? '*' : origin);
    res.setHeader('vary', 'Origin');
    if (cors.credentials) res.setHeader('access-control-allow-credentials', 'true');
    const preflightMethod = req.headers['access-control-request-method'];
    if (req.method !== 'OPTIONS' || !preflightMethod) return false;
    res.setHeader('access-control-allow-methods', String(preflightMethod));
    const headers = req.headers['access-control-request-headers'];
    if (headers) res.setHeader('access-control-allow-headers', String(headers));
    res.setHeader('access-control-max-age', '600');
    res.writeHead(204).end();
    return true;
  };

  return async (req, res) => {
    if (applyCors(req, res)) return;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', d.baseUrl() || 'http://127.0.0.1');
    } catch {
      return sendProblem(res, invalid([{ pointer: '', message: 'The request URL is not valid.' }]), '/');
    }
    try {
      const state = d.state();
      if (state === 'starting' || state === 'stopped')
        return sendProblem(
          res,
          new ProblemError('unavailable', `The host is ${state}; try again shortly.`),
          url.pathname,
          {
            'retry-after': '1',
          },
        );
      if (await d.handleAdmin(req, res, url)) return;
      if (underPrefix(url.pathname)) {
        if (state !== 'running')
          return sendProblem(
            res,
            new ProblemError('unavailable', 'The host is shutting down and takes no new work.'),
            url.pathname,
            { connection: 'close' },
          );
        const found = d.routes.lookup(req.method ?? 'GET', url.pathname);
        if (found.kind === 'match')
          return await handleFunction(req, res, url, found.route.target, found.params);
        if (found.kind === 'method-not-allowed') {
          methodNotAllowed(res, url, found.allow);
          return;
        }
        if (prefix !== '') return notFoundEmpty(res);
      }
      for (const e of d.extensions) if (e.handleHttp && (await e.handleHttp(req, res, url))) return;
      notFoundEmpty(res);
    } catch (e) {
      // A client that went away mid-request is not a host error.
      if (req.destroyed && (e as NodeJS.ErrnoException).code === 'ECONNRESET') return;
      if (e instanceof ProblemError) sendProblem(res, e, url.pathname);
      else {
        d.log.error(`Host error for ${req.method} ${url.pathname}: ${(e as Error).stack ?? e}`);
        sendProblem(
          res,
          new ProblemError('internal', 'The host failed to handle the request; see the host log.'),
          url.pathname,
        );
      }
    }
  };
}
