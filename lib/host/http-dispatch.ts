/**
 * Every HTTP request the host receives: admin API, then app routes under the route prefix (keys,
 * 404/405, invocation), then extensions (the durable engine's webhooks), then 404 — all host errors
 * as RFC 7807 problems. Requests while starting or stopping get 503.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProblemError, invalid, notFound } from '../errors/problem';
import { bindingData } from './blobs';
import type { Registry } from './core-api';
import {
  headerRecord,
  httpTypedData,
  keyMatches,
  methodNotAllowed,
  presentedKey,
  readBody,
  sendHttpResult,
  sendProblem,
} from './http-io';
import type { FunctionEntry, Invoker } from './invoker';
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
  /** Builds an HttpRequest with the app's own @azure/functions (apps that enabled HTTP streams). */
  appHttpRequest(init: unknown): unknown;
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
    const body = await readBody(req);
    const fullUrl = requestUrl(req, d.baseUrl());
    const invocationId = randomUUID();
    // The path only: a `code` query parameter (a key) must never reach the log.
    const logDetail = `${req.method} ${url.pathname}`;
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
    try {
      const result = d.registry.httpStreamRequested
        ? await d.invoker.invoke(entry, {
            replaceTrigger: () =>
              d.appHttpRequest({
                method: req.method,
                url: fullUrl,
                headers: headerRecord(req),
                params,
                body: body.length ? { bytes: body } : undefined,
              }),
            logDetail,
            invocationId,
            bindingData: data,
          })
        : await d.invoker.invoke(entry, {
            triggerData: httpTypedData(req, fullUrl, params, body),
            logDetail,
            invocationId,
            bindingData: data,
          });
      await sendHttpResult(res, result.returnValue, req.method ?? 'GET');
    } catch {
      // The invoker logged the failure with this id; the caller gets the id, never the error.
      sendProblem(
        res,
        new ProblemError(
          'internal',
          `Function "${entry.fn.name}" failed (invocation ${invocationId}); see the host log.`,
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
        if (prefix !== '')
          return sendProblem(res, notFound(`No function serves ${url.pathname}.`), url.pathname);
      }
      for (const e of d.extensions) if (e.handleHttp && (await e.handleHttp(req, res, url))) return;
      sendProblem(
        res,
        notFound(`No function serves ${url.pathname}; app routes are under /${d.prefix}.`),
        url.pathname,
      );
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
