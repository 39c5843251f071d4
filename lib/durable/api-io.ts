/**
 * How the management API reads and answers: JSON bodies (at most 16 MiB; invalid JSON is a 400), JSON
 * responses, and RFC 7807 problem documents, with each `DurableError` kind mapped to its status in one
 * place. `gone` has no problem kind: the API answers it 410 with `{message}`, as the extension does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProblemError, invalid, notFound, conflict } from '../errors/problem';
import { DurableError } from './errors';

const MAX_BODY = 16 * 1024 * 1024;

/** Writes `body` as JSON (an empty body when undefined). */
export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Writes `err` as an RFC 7807 document (also used by the loopback RPC listener). */
export function sendProblem(res: ServerResponse, err: ProblemError, path: string): void {
  const text = JSON.stringify(err.toDocument(path));
  res.writeHead(err.status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ProblemError('too-large', `The request body exceeds ${MAX_BODY} bytes.`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON body as JSON text (`null` when empty); invalid JSON is a 400. */
export async function jsonBody(req: IncomingMessage): Promise<string | null> {
  const text = await readBody(req);
  if (text.trim() === '') return null;
  try {
    JSON.parse(text);
  } catch (e) {
    throw invalid([{ pointer: '', message: `The body is not valid JSON: ${(e as Error).message}` }]);
  }
  return text;
}

/** The problem document for `err`; undefined for `gone` and for unexpected errors. */
export function toProblem(err: unknown): ProblemError | undefined {
  if (err instanceof ProblemError) return err;
  if (err instanceof DurableError) {
    switch (err.kind) {
      case 'not-found':
        return notFound(err.message);
      case 'conflict':
        return conflict(err.message);
      case 'invalid':
        return invalid([{ pointer: '', message: err.message }], err.message);
      case 'unavailable':
        return new ProblemError('unavailable', err.message);
      case 'gone':
        return undefined;
    }
  }
  return undefined;
}
