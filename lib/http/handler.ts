import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ProblemError, invalid } from '../errors/problem';

export const PROBLEM_JSON = 'application/problem+json';

/**
 * Wraps an HTTP function body so that every failure leaves as RFC 7807 problem+json.
 * A `ProblemError` keeps its status; anything else is a 500 whose detail carries no internals
 * (the error is logged through the invocation context, never echoed to the caller).
 */
export function httpHandler(
  fn: (req: HttpRequest, ctx: InvocationContext) => Promise<HttpResponseInit>,
): HttpHandler {
  return async (req, ctx) => {
    try {
      return await fn(req, ctx);
    } catch (err) {
      return problemResponse(err, ctx, new URL(req.url).pathname);
    }
  };
}

export function problemResponse(
  err: unknown,
  ctx: InvocationContext | undefined,
  instance?: string,
): HttpResponseInit {
  const problem =
    err instanceof ProblemError
      ? err
      : new ProblemError(
          'internal',
          `Unexpected error (invocation ${ctx?.invocationId ?? 'unknown'}); see the host log.`,
        );
  if (!(err instanceof ProblemError))
    ctx?.error('unhandled error', err instanceof Error ? err.stack : String(err));
  return {
    status: problem.status,
    headers: { 'content-type': PROBLEM_JSON },
    body: JSON.stringify(problem.toDocument(instance)),
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json', ...headers } };
}

/** Reads a JSON body; malformed JSON is a 400 with the parser's position, never a 500. */
export async function readJson(req: HttpRequest, { optional = false } = {}): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === '') {
    if (optional) return undefined;
    throw invalid([{ pointer: '', message: 'The request body is empty; send a JSON document.' }]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid([{ pointer: '', message: `The body is not valid JSON: ${(e as Error).message}` }]);
  }
}
