import type { Container, SqlQuerySpec } from '@azure/cosmos';
import { ProblemError, invalid } from '../errors/problem';

/** One page of a listing. */
export interface Page<T> {
  items: T[];
  /** Pass back as `continuationToken` for the next page; absent on the last page. */
  continuationToken?: string;
}

const BAD_TOKEN = invalid([
  {
    pointer: '/continuationToken',
    message:
      'The continuation token is not valid; pass the token from the previous page unchanged, or omit it to start over.',
  },
]);

/**
 * Continuation tokens go out wrapped (base64url of `{c: cosmosToken}`) so that a mangled token is a clear
 * 400 on every backend, rather than whatever the database makes of it.
 */
function encodeToken(cosmos: string): string {
  return Buffer.from(JSON.stringify({ c: cosmos })).toString('base64url');
}

function decodeToken(token: string): string {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { c?: unknown };
    if (typeof v.c === 'string' && v.c) return v.c;
  } catch {
    // reported below
  }
  throw BAD_TOKEN;
}

/**
 * One page of a query, paged with Cosmos continuation tokens (never OFFSET/LIMIT, which the emulator
 * rejects and which costs more on real Cosmos DB the deeper the page).
 */
export async function queryPage<T>(
  c: Container,
  query: SqlQuerySpec,
  opts: { limit: number; continuationToken?: string; partitionKey?: string },
): Promise<Page<T>> {
  try {
    const it = c.items.query<T>(query, {
      maxItemCount: opts.limit,
      ...(opts.continuationToken ? { continuationToken: decodeToken(opts.continuationToken) } : {}),
      ...(opts.partitionKey !== undefined ? { partitionKey: opts.partitionKey } : {}),
    });
    const r = await it.fetchNext();
    const page: Page<T> = { items: r.resources ?? [] };
    if (r.continuationToken && r.hasMoreResults !== false)
      page.continuationToken = encodeToken(r.continuationToken);
    return page;
  } catch (e) {
    if (e instanceof ProblemError) throw e;
    const code = (e as { code?: number }).code;
    if (opts.continuationToken && (code === 400 || e instanceof SyntaxError || code === undefined))
      throw BAD_TOKEN;
    throw e;
  }
}
