/**
 * The node:http side of HTTP triggers: reading requests into the worker's `RpcHttpData` shape,
 * writing an `HttpResponse` (status, headers, cookies, JSON and streamed bodies) back, keys, and the
 * host's own RFC 7807 errors.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { HttpResponse, type Cookie, type HttpResponseInit } from '@azure/functions';
import { ProblemError } from '../errors/problem';

export const PROBLEM_JSON = 'application/problem+json';

/** The largest request body a function gets by default (the Functions host's 100 MB). */
export const MAX_BODY_BYTES = 100 * 1024 * 1024;

/**
 * `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` (bytes), as the Functions host reads it; the 100 MB default
 * when unset. Anything but a positive whole number fails the start, naming the setting.
 */
export function requestBodyLimit(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
  if (raw === undefined || raw.trim() === '') return MAX_BODY_BYTES;
  if (!/^\s*\d{1,15}\s*$/.test(raw) || Number(raw) <= 0)
    throw new Error(
      `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is ${JSON.stringify(raw)}; give the largest request body in bytes, e.g. 209715200 for 200 MB.`,
    );
  return Number(raw);
}

export function tooLarge(limit: number): ProblemError {
  return new ProblemError(
    'too-large',
    `The request body is larger than ${limit} bytes, the limit for a function (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT).`,
  );
}

export function sendProblem(
  res: ServerResponse,
  problem: ProblemError,
  instance: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problem.toDocument(instance));
  res.writeHead(problem.status, {
    'content-type': PROBLEM_JSON,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.headers;
  for (const k in raw) {
    const v = raw[k];
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The Functions host's query map: one entry a key, repeated values joined by commas (StringValues). */
export function queryMap(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of new Set(url.searchParams.keys())) out[k] = url.searchParams.getAll(k).join(',');
  return out;
}

/**
 * The `RpcHttpData` the Functions host sends the worker for an HTTP trigger. `query` only for apps
 * whose @azure/functions reads nothing else (4.0–4.3); without it newer versions parse the URL
 * themselves and keep repeated keys.
 */
export function httpRequestData(
  req: IncomingMessage,
  url: string,
  params: Record<string, string>,
  body: Buffer,
  query?: Record<string, string>,
): Record<string, unknown> {
  return {
    method: req.method ?? 'GET',
    url,
    headers: headerRecord(req),
    params,
    ...(query && { query }),
    body: body.length ? { bytes: body } : undefined,
  };
}

/**
 * A cookie as the Functions host writes it: its CookieOptions through ASP.NET Core's
 * SetCookieHeaderValue — lower-case attributes in the order expires, max-age, domain, path (default
 * `/`), secure, samesite, httponly.
 */
export function serializeCookie(c: Cookie): string {
  let s = `${c.name}=${c.value}`;
  if (c.expires !== undefined)
    s += `; expires=${(typeof c.expires === 'number' ? new Date(c.expires) : c.expires).toUTCString()}`;
  if (c.maxAge !== undefined) s += `; max-age=${Math.trunc(c.maxAge)}`;
  if (c.domain) s += `; domain=${c.domain}`;
  s += `; path=${c.path || '/'}`;
  if (c.secure) s += '; secure';
  if (c.sameSite) s += `; samesite=${c.sameSite.toLowerCase()}`;
  if (c.httpOnly) s += '; httponly';
  return s;
}

interface ResponseLike {
  status: number;
  headers: Headers;
  cookies: Cookie[];
  body: WebReadableStream | ReadableStream | null;
}

function isResponseLike(v: unknown): v is ResponseLike {
  return (
    !!v &&
    typeof v === 'object' &&
    typeof (v as ResponseLike).status === 'number' &&
    (v as ResponseLike).headers instanceof Headers &&
    typeof (v as { arrayBuffer?: unknown }).arrayBuffer === 'function'
  );
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * The common case — an `HttpResponseInit` with a string, bytes or `jsonBody` — written without going
 * through a web ReadableStream, with the same defaults `HttpResponse` applies (status 200,
 * content-type for text and JSON, no body for 204/205/304). False when the body needs the general path.
 */
function sendPlainInit(res: ServerResponse, init: HttpResponseInit, method: string): boolean {
  const body = init.body as unknown;
  const isBytes = body instanceof Uint8Array || body instanceof ArrayBuffer;
  if (
    init.jsonBody === undefined &&
    body !== undefined &&
    body !== null &&
    typeof body !== 'string' &&
    !isBytes
  )
    return false;
  const status = init.status ?? 200;
  const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
  let payload: string | Uint8Array | undefined;
  if (!NULL_BODY_STATUSES.has(status)) {
    if (init.jsonBody !== undefined) {
      payload = JSON.stringify(init.jsonBody);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    } else if (typeof body === 'string') {
      payload = body;
      if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
    } else if (isBytes) payload = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
  }
  res.statusCode = status;
  for (const [k, v] of headers) if (k !== 'set-cookie') res.setHeader(k, v);
  const cookies = [...headers.getSetCookie(), ...(init.cookies ?? []).map(serializeCookie)];
  if (cookies.length) res.setHeader('set-cookie', cookies);
  if (payload !== undefined) res.setHeader('content-length', Buffer.byteLength(payload));
  res.end(method === 'HEAD' ? undefined : payload);
  return true;
}

/** Writes the handler's result (an `HttpResponse` or an `HttpResponseInit`) to the node response. */
export async function sendHttpResult(res: ServerResponse, result: unknown, method: string): Promise<void> {
  if (result !== undefined && result !== null && typeof result !== 'object')
    throw new TypeError(
      'The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".',
    );
  if (!isResponseLike(result) && sendPlainInit(res, (result ?? {}) as HttpResponseInit, method)) return;
  const r: ResponseLike = isResponseLike(result)
    ? result
    : (new HttpResponse((result ?? {}) as HttpResponseInit) as unknown as ResponseLike);
  res.statusCode = r.status;
  const cookies: string[] = [];
  for (const [k, v] of r.headers) {
    if (k === 'set-cookie') continue;
    res.setHeader(k, v);
  }
  cookies.push(...(r.headers.getSetCookie?.() ?? []));
  for (const c of r.cookies ?? []) cookies.push(serializeCookie(c));
  if (cookies.length) res.setHeader('set-cookie', cookies);
  const body = r.body;
  if (!body || method === 'HEAD') {
    if (body) await (body as WebReadableStream).cancel().catch(() => {});
    res.end();
    return;
  }
  // A streamed body (e.g. `?follow=true` log tails) flows as it is produced; a client that goes
  // away cancels the stream, which the app sees as its ReadableStream being cancelled.
  res.flushHeaders();
  await pipeline(Readable.fromWeb(body as WebReadableStream), res).catch(() => {});
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compares a presented key to the configured ones without leaking timing or the keys. */
export function keyMatches(presented: string | undefined, ...keys: Array<string | undefined>): boolean {
  if (!presented) return false;
  const p = digest(presented);
  let ok = false;
  for (const k of keys) if (k && timingSafeEqual(p, digest(k))) ok = true;
  return ok;
}

export function presentedKey(req: IncomingMessage, url: URL): string | undefined {
  const h = req.headers['x-functions-key'];
  return (Array.isArray(h) ? h[0] : h) ?? url.searchParams.get('code') ?? undefined;
}

/** A 405 problem with the `Allow` header. */
export function methodNotAllowed(res: ServerResponse, url: URL, allow: string[]): true {
  sendProblem(
    res,
    new ProblemError('method-not-allowed', `${url.pathname} accepts ${allow.join(', ')}.`),
    url.pathname,
    {
      allow: allow.join(', '),
    },
  );
  return true;
}
