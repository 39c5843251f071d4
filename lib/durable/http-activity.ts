/**
 * `callHttp`: the request the extension makes for an orchestration (its built-in
 * `BuiltIn::HttpActivity`), answered as durable-functions' `DurableHttpResponse`
 * (`{statusCode, headers, content}`). Polling a 202 is planned in episode.ts; this makes one request.
 */

/** .NET HttpClient's default timeout, which the extension's HTTP calls inherit. */
const HTTP_TIMEOUT_MS = 100_000;

export class DurableHttpError extends Error {
  override name = 'DurableHttpError';
}

/** Performs one DurableHttpRequest (JSON text) and returns the TaskCompleted result (JSON text). */
export async function performDurableHttp(requestJson: string | null): Promise<string> {
  let req: any;
  try {
    req = JSON.parse(requestJson ?? 'null');
  } catch {
    req = undefined;
  }
  if (!req || typeof req !== 'object' || typeof req.uri !== 'string' || !req.uri)
    throw new DurableHttpError('callHttp needs a request with a url.');
  if (req.tokenSource)
    throw new DurableHttpError(
      'callHttp with a tokenSource (a managed identity token) is not supported by the local host (Sluice): ' +
        'there is no managed identity here. Send the token in a header instead, or run on Azure Functions.',
    );
  let url: URL;
  try {
    url = new URL(req.uri);
  } catch {
    throw new DurableHttpError(`callHttp: "${req.uri}" is not an absolute URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DurableHttpError(`callHttp: only http and https URLs can be called (got ${url.protocol}).`);
  const method = String(req.method ?? 'GET').toUpperCase();
  const headers = new Headers();
  if (req.headers && typeof req.headers === 'object')
    for (const [k, v] of Object.entries(req.headers as Record<string, unknown>)) {
      if (Array.isArray(v)) for (const one of v) headers.append(k, String(one));
      else if (v !== undefined && v !== null) headers.set(k, String(v));
    }
  const body = method === 'GET' || method === 'HEAD' || req.content == null ? undefined : String(req.content);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  } catch (e: any) {
    const why =
      e?.name === 'TimeoutError'
        ? `no answer within ${HTTP_TIMEOUT_MS / 1000} s`
        : String(e?.cause?.message ?? e?.message ?? e);
    throw new DurableHttpError(`callHttp ${method} ${url.origin}${url.pathname} failed: ${why}`);
  }
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    // Header names as the server sent them are lost in fetch; the library looks them up case-insensitively.
    out[k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase())] = v;
  });
  const content = await res.text();
  return JSON.stringify({ statusCode: res.status, headers: out, content });
}
