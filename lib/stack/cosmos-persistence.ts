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
 *
 * This file holds the hooks and the journal's appends, fsyncs and compactions (`CosmosPersistence`).
 * The file format is `cosmos-journal-format.ts`, the server's internals `cosmos-items.ts`, the
 * compaction's files `cosmos-snapshot.ts`, reading them back `cosmos-restore.ts`.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  ACCOUNT,
  COLLECTIONS,
  DATABASES,
  DOCUMENTS,
  ITEMS,
  type ItemsLike,
  ownerOf,
  ROUTES,
  UDFS,
} from './cosmos-items';
import { JOURNAL, type JournalRecord } from './cosmos-journal-format';
import { applyRecord, type ItemSetters, replayFiles, type RestoreStats } from './cosmos-restore';
import { writeEmptyJournal, writeSnapshot } from './cosmos-snapshot';

export interface PersistenceOptions {
  /** Folder for `snapshot.ndjson` and `journal.ndjson`. */
  dir: string;
  /** How often a dirty journal is fdatasync'd. @default 100 */
  fsyncIntervalMs?: number;
  /** Compact (snapshot + empty journal) once the journal exceeds this many bytes. @default 64 MiB */
  compactBytes?: number;
  log?: (message: string) => void;
}

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

  private restoreSetters: ItemSetters | undefined;

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
    this.restoring = true;
    let stats: RestoreStats;
    try {
      const read = replayFiles(this.dir, (r) => this.apply(r), this.log);
      stats = read.stats;
      this.gen = read.gen;
      // Nothing to fold in (a clean stop left an empty journal of this generation): keep appending to it.
      if (read.reusable) {
        this.fd = fs.openSync(path.join(this.dir, JOURNAL), 'a');
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

  private apply(r: JournalRecord): void {
    applyRecord(this.account.databases as ItemsLike, r, this.restoreSetters!);
  }

  /** Writes the whole state as a new snapshot generation, then starts an empty journal for it. */
  compact(): void {
    this.flush();
    const next = this.gen + 1;
    writeSnapshot(this.dir, next, this.account.databases as ItemsLike);
    // From here the old journal is contained in the snapshot (its generation no longer matches).
    const headerBytes = writeEmptyJournal(this.dir, next);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = fs.openSync(path.join(this.dir, JOURNAL), 'a');
    this.gen = next;
    this.journalBytes = headerBytes;
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
