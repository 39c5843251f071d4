import type { HttpRequest } from '@azure/functions';
import { invalid } from '../errors/problem';

/** Paging options every list route accepts: `?limit=1..100&continuationToken=…`. */
export interface PageRequest {
  limit?: number;
  continuationToken?: string;
}

/**
 * Reads `limit` and `continuationToken` from the query; a bad limit is a 400 pointing at `/limit`.
 * @param max the largest page the route serves. @default 100
 */
export function paging(req: HttpRequest, max = 100): PageRequest {
  const out: PageRequest = {};
  const limit = req.query.get('limit');
  if (limit !== null) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > max)
      throw invalid([
        { pointer: '/limit', message: `limit must be an integer from 1 to ${max}; got "${limit}".` },
      ]);
    out.limit = n;
  }
  const token = req.query.get('continuationToken');
  if (token) out.continuationToken = token;
  return out;
}

/** The link to the next page (path and query), or undefined on the last page. */
export function nextLink(req: HttpRequest, token: string | undefined): string | undefined {
  if (!token) return undefined;
  const u = new URL(req.url);
  u.searchParams.set('continuationToken', token);
  return u.pathname + u.search;
}
