/**
 * Durable state for `@vercel/cosmosdb-server`, which keeps everything in memory.
 *
 * The server stores its state in a tree of `Items` collections (account → databases → collections →
 * documents / user-defined functions). Every mutation goes through `Items.prototype._set` and
 * `Items.prototype.delete`, so we hook those two and record the resulting resource (with the `_rid`,
 * `_etag` and `_ts` the server assigned) as one JSON line. Lines produced while a request is handled are
 * appended with one `write(2)` before the handler returns, i.e. before the response is sent: an
 * acknowledged write is in the kernel even if the process dies the next instant. A timer `fdatasync`s the
 * journal in small batches, bounding what a power loss can take.
 *
 * Files in `<dir>`: `snapshot.ndjson` (a compacted journal, replaced atomically) and `journal.ndjson`.
 * Both start with a header line `{"v":1,"gen":G}`; a journal whose generation differs from the
 * snapshot's is already contained in the snapshot (a compaction was interrupted) and is ignored.
 *
 * The hooks reach into the package's compiled internals (`lib/account/*`), so they are verified at load
 * and fail with a clear message if the package changes shape.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readJsonLines } from './json-lines';

/* eslint-disable @typescript-eslint/no-require-imports */
const ITEMS = require('@vercel/cosmosdb-server/lib/account/items');
const DATABASES = require('@vercel/cosmosdb-server/lib/account/databases');
const COLLECTIONS = require('@vercel/cosmosdb-server/lib/account/collections');
const DOCUMENTS = require('@vercel/cosmosdb-server/lib/account/documents');
const UDFS = require('@vercel/cosmosdb-server/lib/account/user-defined-functions');
const ACCOUNT = require('@vercel/cosmosdb-server/lib/account');
const ROUTES = require('@vercel/cosmosdb-server/lib/routes');
/* eslint-enable @typescript-eslint/no-require-imports */

type Kind = 'db' | 'coll' | 'doc' | 'udf';

/** One journal line. `set` carries the stored resource; `del` its `_rid`; `n` restores rid counters. */
export interface JournalRecord {
  k: Kind;
  op: 'set' | 'del' | 'n';
  /** Database `_rid` (kinds coll, doc, udf). */
  db?: string;
  /** Collection `_rid` (kinds doc, udf). */
  coll?: string;
  data?: Record<string, any>;
  rid?: string;
  /** The owning `Items`' `_ridCount` after the operation, so new rids never collide after a restore. */
  n?: number;
}

export interface PersistenceOptions {
  /** Folder for `snapshot.ndjson` and `journal.ndjson`. */
  dir: string;
  /** How often a dirty journal is fdatasync'd. @default 100 */
  fsyncIntervalMs?: number;
  /** Compact (snapshot + empty journal) once the journal exceeds this many bytes. @default 64 MiB */
  compactBytes?: number;
  log?: (message: string) => void;
}

export interface RestoreStats {
  snapshotRecords: number;
  journalRecords: number;
  /** A torn or corrupt tail found (and cut off) in the journal. */
  discardedTailBytes: number;
  ms: number;
}

interface ItemsLike {
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

const FORMAT_VERSION = 1;
const SNAPSHOT = 'snapshot.ndjson';
const JOURNAL = 'journal.ndjson';

function verifyInternals(): void {
  const ok =
    typeof ITEMS?.default?.prototype?._set === 'function' &&
    typeof ITEMS.default.prototype.delete === 'function' &&
    typeof ITEMS.default.prototype.replace === 'function' &&
    typeof ACCOUNT?.default === 'function' &&
    typeof ROUTES?.default === 'function' &&
    typeof DATABASES?.default === 'function' &&
    typeof COLLECTIONS?.default === 'function' &&
    typeof DOCUMENTS?.default === 'function' &&
    typeof UDFS?.default === 'function';
  if (!ok) {
    throw new Error(
      'Cosmos persistence cannot hook @vercel/cosmosdb-server: its internals (lib/account/items, lib/routes) ' +
        'changed shape. Pin @vercel/cosmosdb-server to 1.0.x or update lib/stack/cosmos-persistence.ts.',
    );
  }
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

interface Owner {
  k: Kind;
  prefix: string; // the JSON text shared by every line of this Items instance
}

const owners = new WeakMap<object, Owner | null>();

function ownerOf(items: ItemsLike): Owner | null {
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

/**
 * Installs the hooks and owns the files. One per process: the hooks are process-global because the
 * server's classes are.
 */
export class CosmosPersistence {
  private readonly dir: string;
  private readonly fsyncIntervalMs: number;
  private readonly compactBytes: number;
  private readonly log: (m: string) => void;
  private account: any;
  private fd: number | undefined;
  private gen = 0;
  private pending: string[] = [];
  private journalBytes = 0;
  /** `journalBytes` right after the last compaction (equal: nothing changed since). */
  private compactedAt = -1;
  private dirty = false;
  private syncing = false;
  private timer: NodeJS.Timeout | undefined;
  private compactQueued = false;
  private closed = false;
  /** Set while the server replaces an item, whose inner delete is implied by the following set. */
  private replaceDepth = 0;
  private restoring = false;

  constructor(opts: PersistenceOptions) {
    verifyInternals();
    this.dir = opts.dir;
    this.fsyncIntervalMs = opts.fsyncIntervalMs ?? 100;
    this.compactBytes = opts.compactBytes ?? 64 * 1024 * 1024;
    this.log = opts.log ?? (() => {});
  }

  /**
   * Hooks the server's classes. Call before `createHttpServer(...).listen()`: the account the server
   * creates on `listening` is captured so `restore` can fill it.
   */
  install(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const OriginalAccount = ACCOUNT.default;
    ACCOUNT.default = class CapturedAccount extends OriginalAccount {
      constructor(...args: unknown[]) {
        super(...args);
        self.account = this;
      }
    };
    const proto = ITEMS.default.prototype;
    const set = proto._set;
    const del = proto.delete;
    const replace = proto.replace;
    proto._set = function (this: ItemsLike, data: Record<string, any>) {
      const r = set.call(this, data);
      if (!self.restoring) self.record(this, 'set', r);
      return r;
    };
    proto.delete = function (this: ItemsLike, idOrRid: string, partition: unknown) {
      const data = this._item('/id', idOrRid, partition).read();
      const r = del.call(this, idOrRid, partition);
      if (!self.restoring && self.replaceDepth === 0 && data) self.record(this, 'del', data);
      return r;
    };
    proto.replace = function (this: ItemsLike, ...args: unknown[]) {
      self.replaceDepth++;
      try {
        return replace.apply(this, args);
      } finally {
        self.replaceDepth--;
      }
    };
    // Flush a request's journal lines before its handler returns, i.e. before the response is written.
    const route = ROUTES.default;
    ROUTES.default = (req: { method?: string }) => {
      const r = route(req);
      if (!r || req.method === 'GET') return r;
      const [params, handler] = r;
      return [
        params,
        async (...args: unknown[]) => {
          try {
            return await handler(...args);
          } finally {
            self.flush();
          }
        },
      ];
    };
    this.restoreSetters = { set, del };
  }

  private restoreSetters: { set: (d: any) => any; del: (id: string, p: unknown) => void } | undefined;

  private record(items: ItemsLike, op: 'set' | 'del', data: Record<string, any>): void {
    const o = ownerOf(items);
    if (!o || this.closed) return;
    const line =
      op === 'set'
        ? `${o.prefix},"op":"set","n":${items._ridCount},"data":${JSON.stringify(data)}}\n`
        : `${o.prefix},"op":"del","rid":${JSON.stringify(data._rid)}}\n`;
    this.pending.push(line);
    // Safety net for a mutation outside a request handler.
    if (this.pending.length === 1) process.nextTick(() => this.flush());
  }

  /** Appends pending lines with one write; called before each mutating response. */
  flush(): void {
    if (this.pending.length === 0 || this.fd === undefined) return;
    const text = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    const buf = Buffer.from(text);
    let off = 0;
    try {
      while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    } catch (err) {
      // Never leave half a line in the middle of the journal: restore stops at the first bad line.
      try {
        fs.ftruncateSync(this.fd, this.journalBytes);
      } catch {
        // the compaction at stop rewrites everything anyway
      }
      this.log(`cosmos: appending to the journal failed (${(err as Error).message}); the request fails`);
      throw err;
    }
    this.journalBytes += buf.length;
    this.dirty = true;
    if (this.journalBytes > this.compactBytes && !this.compactQueued) {
      this.compactQueued = true;
      setImmediate(() => {
        this.compactQueued = false;
        if (!this.closed) this.compact();
      });
    }
  }

  /** Loads snapshot + journal into the captured account, then compacts and opens a fresh journal. */
  restore(): RestoreStats {
    const t0 = performance.now();
    if (!this.account) throw new Error('Cosmos persistence: restore() called before the server listened');
    fs.mkdirSync(this.dir, { recursive: true });
    const stats: RestoreStats = { snapshotRecords: 0, journalRecords: 0, discardedTailBytes: 0, ms: 0 };
    this.restoring = true;
    try {
      const snap = readLines(path.join(this.dir, SNAPSHOT));
      let snapGen = 0;
      if (snap) {
        const header = snap.records.shift() as any;
        if (!header || header.v !== FORMAT_VERSION || snap.tailBytes > 0) {
          throw new Error(
            `Cosmos snapshot ${path.join(this.dir, SNAPSHOT)} is unreadable (written by another version or ` +
              'damaged). Move it aside to start with an empty Cosmos store.',
          );
        }
        snapGen = header.gen;
        for (const r of snap.records) this.apply(r as JournalRecord);
        stats.snapshotRecords = snap.records.length;
      }
      const jpath = path.join(this.dir, JOURNAL);
      const journal = readLines(jpath);
      let reusable = false;
      if (journal) {
        const header = journal.records.shift() as any;
        if (header && header.v === FORMAT_VERSION && header.gen === snapGen) {
          reusable = journal.records.length === 0 && journal.tailBytes === 0;
          for (const r of journal.records) this.apply(r as JournalRecord);
          stats.journalRecords = journal.records.length;
          stats.discardedTailBytes = journal.tailBytes;
          if (journal.tailBytes > 0) {
            this.log(
              `cosmos: discarded a torn journal tail of ${journal.tailBytes} bytes (an unfinished write)`,
            );
          }
        }
      }
      this.gen = snapGen;
      // Nothing to fold in (a clean stop left an empty journal of this generation): keep appending to it.
      if (snap && reusable) {
        this.fd = fs.openSync(jpath, 'a');
        this.journalBytes = fs.fstatSync(this.fd).size;
        this.compactedAt = this.journalBytes;
      }
    } finally {
      this.restoring = false;
    }
    if (this.fd === undefined) this.compact();
    this.timer = setInterval(() => this.sync(), this.fsyncIntervalMs);
    this.timer.unref();
    stats.ms = Math.round(performance.now() - t0);
    return stats;
  }

  private itemsFor(r: JournalRecord): ItemsLike | undefined {
    const dbs = this.account.databases as ItemsLike;
    if (r.k === 'db') return dbs;
    const db = dbs._data.get(r.db!) as any;
    if (!db) return undefined;
    if (r.k === 'coll') return db.collections;
    const coll = db.collections._data.get(r.coll!) as any;
    if (!coll) return undefined;
    return r.k === 'doc' ? coll.documents : coll.userDefinedFunctions;
  }

  private apply(r: JournalRecord): void {
    const items = this.itemsFor(r);
    if (!items) return; // its parent was deleted later in the history
    const { set, del } = this.restoreSetters!;
    if (r.op === 'n' || r.op === 'set') items._ridCount = Math.max(items._ridCount, r.n ?? 0);
    if (r.op === 'n') return;
    const rid = r.op === 'set' ? r.data!._rid : r.rid!;
    const old = items._data.get(rid);
    if (old) del.call(items, rid, items._getPartition(old._data));
    if (r.op === 'del') {
      if (old && items.functions) delete items.functions[old._data.id];
      return;
    }
    set.call(items, r.data);
    if (items.functions) items.functions[r.data!.id] = defineUdf(r.data!.body);
  }

  /** Writes the whole state as a new snapshot generation, then starts an empty journal for it. */
  compact(): void {
    this.flush();
    const next = this.gen + 1;
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    try {
      const w = new LineWriter(fd);
      w.line(JSON.stringify({ v: FORMAT_VERSION, gen: next }));
      const dbs = this.account.databases as ItemsLike;
      w.line(JSON.stringify({ k: 'db', op: 'n', n: dbs._ridCount }));
      for (const db of dbs._data.values() as Iterable<any>) {
        const dbRid = db._data._rid;
        w.line(JSON.stringify({ k: 'db', op: 'set', n: dbs._ridCount, data: db._data }));
        w.line(JSON.stringify({ k: 'coll', op: 'n', db: dbRid, n: db.collections._ridCount }));
        for (const coll of db.collections._data.values() as Iterable<any>) {
          const collRid = coll._data._rid;
          w.line(
            JSON.stringify({
              k: 'coll',
              op: 'set',
              db: dbRid,
              n: db.collections._ridCount,
              data: coll._data,
            }),
          );
          for (const [k, items] of [
            ['doc', coll.documents],
            ['udf', coll.userDefinedFunctions],
          ] as const) {
            const prefix = `{"k":"${k}","db":${JSON.stringify(dbRid)},"coll":${JSON.stringify(collRid)}`;
            w.line(`${prefix},"op":"n","n":${items._ridCount}}`);
            for (const item of items._data.values()) {
              w.line(`${prefix},"op":"set","data":${JSON.stringify(item._data)}}`);
            }
          }
        }
      }
      w.end();
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT));
    fsyncDir(this.dir);
    // From here the old journal is contained in the snapshot (its generation no longer matches).
    const jtmp = path.join(this.dir, `${JOURNAL}.tmp`);
    const header = `${JSON.stringify({ v: FORMAT_VERSION, gen: next })}\n`;
    fs.writeFileSync(jtmp, header);
    const jfd = fs.openSync(jtmp, 'r+');
    fs.fsyncSync(jfd);
    fs.closeSync(jfd);
    fs.renameSync(jtmp, path.join(this.dir, JOURNAL));
    fsyncDir(this.dir);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = fs.openSync(path.join(this.dir, JOURNAL), 'a');
    this.gen = next;
    this.journalBytes = header.length;
    this.compactedAt = this.journalBytes;
    this.dirty = false;
  }

  private sync(): void {
    if (!this.dirty || this.syncing || this.fd === undefined) return;
    this.dirty = false;
    this.syncing = true;
    const fd = this.fd;
    fs.fdatasync(fd, (err) => {
      this.syncing = false;
      if (err && fd === this.fd) this.log(`cosmos: fdatasync of the journal failed: ${err.message}`);
    });
  }

  /** Clean shutdown: flush, compact into a snapshot, close. Call after the server stopped serving. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.fd !== undefined) {
      this.flush();
      // Unchanged since the last compaction: the snapshot and empty journal already say it all.
      if (this.journalBytes !== this.compactedAt) this.compact();
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    this.closed = true;
  }
}

function defineUdf(body: string): unknown {
  // The server compiles UDF bodies the same way when they are created.
  return new Function(`"use strict";return (${body})`)();
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Directory fsync is not supported everywhere (Windows); the rename is still atomic.
  }
}

/** Buffered line writer for snapshots (1 MiB writes). */
class LineWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  line(s: string): void {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= 1 << 20) this.end();
  }
  end(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''));
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
  }
}

/** The snapshot, or the journal (whose torn tail is cut off so appends continue on a clean line). */
function readLines(file: string): { records: unknown[]; tailBytes: number } | undefined {
  return readJsonLines(file, { cutTail: file.endsWith(JOURNAL) });
}
