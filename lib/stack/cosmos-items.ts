/**
 * The `@vercel/cosmosdb-server` internals the persistence reaches into (its compiled `lib/account/*` and
 * `lib/routes`), and how it reads them: which kind of resource an `Items` collection holds, the JSON
 * prefix shared by every journal line of one `Items`, and the `Items` a record belongs to. Partition key
 * ranges are derived, so they have no kind and are never recorded. `verifyInternals`
 * (cosmos-persistence.ts) checks the shape at start.
 */
import type { JournalRecord, Kind } from './cosmos-journal-format';

/* eslint-disable @typescript-eslint/no-require-imports */
export const ITEMS = require('@vercel/cosmosdb-server/lib/account/items');
export const DATABASES = require('@vercel/cosmosdb-server/lib/account/databases');
export const COLLECTIONS = require('@vercel/cosmosdb-server/lib/account/collections');
export const DOCUMENTS = require('@vercel/cosmosdb-server/lib/account/documents');
export const UDFS = require('@vercel/cosmosdb-server/lib/account/user-defined-functions');
export const ACCOUNT = require('@vercel/cosmosdb-server/lib/account');
export const ROUTES = require('@vercel/cosmosdb-server/lib/routes');
/* eslint-enable @typescript-eslint/no-require-imports */

export interface ItemsLike {
  _parent: { _data: Record<string, any> | null | undefined };
  _data: Map<string, { _data: Record<string, any> }>;
  _ridCount: number;
  _item(
    keyPath: string,
    value: string,
    partition: unknown,
  ): { read(): Record<string, any> | null | undefined };
  _getPartition(data: Record<string, any>): unknown;
  functions?: Record<string, unknown>;
}

function kindOf(items: unknown): Kind | undefined {
  if (items instanceof DOCUMENTS.default) return 'doc';
  if (items instanceof COLLECTIONS.default) return 'coll';
  if (items instanceof DATABASES.default) return 'db';
  if (items instanceof UDFS.default) return 'udf';
  return undefined; // partition key ranges: derived, rebuilt with their collection
}

/** `/dbs/<dbRid>/colls/<collRid>` → the two rids. */
function ridsFromSelf(self: string): { db: string; coll: string } {
  const parts = self.split('/').filter(Boolean);
  return { db: parts[1], coll: parts[3] };
}

export interface Owner {
  k: Kind;
  prefix: string; // the JSON text shared by every line of this Items instance
}

const owners = new WeakMap<object, Owner | null>();

/** What every journal line of `items` starts with; null for items that are not recorded. */
export function ownerOf(items: ItemsLike): Owner | null {
  let o = owners.get(items);
  if (o !== undefined) return o;
  const k = kindOf(items);
  if (!k) o = null;
  else if (k === 'db') o = { k, prefix: '{"k":"db"' };
  else if (k === 'coll') o = { k, prefix: `{"k":"coll","db":${JSON.stringify(items._parent._data!._rid)}` };
  else {
    const { db, coll } = ridsFromSelf(items._parent._data!._self);
    o = { k, prefix: `{"k":"${k}","db":${JSON.stringify(db)},"coll":${JSON.stringify(coll)}` };
  }
  owners.set(items, o);
  return o;
}

/** The `Items` under `dbs` (the account's databases) that record `r` changes; undefined when its parent no longer exists. */
export function itemsFor(dbs: ItemsLike, r: JournalRecord): ItemsLike | undefined {
  if (r.k === 'db') return dbs;
  const db = dbs._data.get(r.db!) as any;
  if (!db) return undefined;
  if (r.k === 'coll') return db.collections;
  const coll = db.collections._data.get(r.coll!) as any;
  if (!coll) return undefined;
  return r.k === 'doc' ? coll.documents : coll.userDefinedFunctions;
}
