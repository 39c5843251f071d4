/**
 * The entity routes of the management API (`entities/…` under both prefixes), as the durable
 * extension's HTTP API answers them:
 * - `POST entities/{name}/{key}?op=…` (JSON body: the operation input) signals the entity → 202;
 * - `GET entities/{name}/{key}` → 200 with the state, 404 when the entity does not exist;
 * - `GET entities/` or `GET entities/{name}` lists entities (`fetchState`, `top`) → 200
 *   `[{entityId: {name, key}, lastOperationTime, state?}]`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProblemError, invalid } from '../errors/problem';
import type { EntityHost } from './entities';
import { schedulerId } from './entity-scheduler';

export interface EntityRouteHelpers {
  send(res: ServerResponse, status: number, body: unknown): void;
  jsonBody(req: IncomingMessage): Promise<string | null>;
  methodNotAllowed(allowed: string): never;
}

export async function routeEntities(
  entities: EntityHost,
  h: EntityRouteHelpers,
  method: string,
  name: string | undefined,
  key: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (!name || key === undefined) {
    if (method !== 'GET') h.methodNotAllowed('GET');
    const fetchState = url.searchParams.get('fetchState') === 'true';
    const top = Number(url.searchParams.get('top') ?? '0');
    let list = entities.list(name || undefined);
    if (Number.isInteger(top) && top > 0) list = list.slice(0, top);
    return h.send(
      res,
      200,
      list.map((e) => ({
        entityId: { name: e.name, key: e.key },
        lastOperationTime: new Date(e.lastOperationMs).toISOString(),
        ...(fetchState ? { state: e.state } : {}),
      })),
    );
  }
  if (method === 'GET') {
    const e = entities.read(name, key);
    if (!e) throw new ProblemError('not-found', `No entity '${name}' with key '${key}' exists.`);
    return h.send(res, 200, e.state);
  }
  if (method !== 'POST') h.methodNotAllowed('GET or POST');
  const op = url.searchParams.get('op');
  if (!op)
    throw invalid([
      { pointer: '/op', message: 'Name the operation: POST entities/{name}/{key}?op=<operation>.' },
    ]);
  const input = await h.jsonBody(req);
  await entities.enqueue(schedulerId(name, key), {
    id: randomUUID(),
    kind: 'op',
    op,
    input,
    signal: true,
  });
  h.send(res, 202, undefined);
}
