/**
 * Durable metadata for Azurite, whose blob, queue and table metadata live in LokiJS databases that
 * Azurite saves every 5 s: a SIGKILL lost every acknowledged change of the last seconds.
 *
 * Every change reaches a LokiJS collection through a few methods (`insertOne`, `update`, `remove`,
 * `removeBatchByPositions`, `clear`; `addCollection`, `removeCollection`, `renameCollection` on the
 * database). We hook them and record each change as one JSON line: the whole document as stored (`$loki`
 * and `meta` included) or the ids removed. Lines are appended to `<database file>.journal` with one
 * `write(2)` per database before any HTTP response is written (a hook on `ServerResponse.writeHead`, which
 * every response passes) and at the latest on the next turn of the event loop: an acknowledged change is
 * in the kernel even if the process dies the next instant. A timer `fdatasync`s dirty journals.
 *
 * The database file itself becomes the snapshot: we replace LokiJS's save (5 s autosave, non-atomic
 * rewrite) with a compaction that serializes the database with a generation number, writes it
 * atomically (tmp, fsync, rename, fsync dir), then starts an empty journal of that generation. On load the
 * journal is replayed only if its generation equals the snapshot's; any other journal was already folded
 * in (a compaction was interrupted between the two renames). A torn last line (an unfinished write) is cut
 * off and reported. Compaction runs when Azurite saves (at start and at close) and when the journal
 * outgrows the snapshot, so restart time stays proportional to the data.
 *
 * Table batches stay atomic: Azurite applies a batch's operations without yielding to the event loop
 * (it relies on that for its own rollback), so the batch's lines are written together.
 *
 * This file holds the hooks and the process-wide scheduling of writes, fsyncs and compactions
 * (`LokiJournals`). One database's journal is `loki-db-journal.ts`, the file format
 * `loki-journal-format.ts`, the replay into collections `loki-replay.ts`.
 */
import http from 'node:http';
import { DbJournal, type JournalRestore } from './loki-db-journal';
import { GEN_FIELD, type JournalRecord } from './loki-journal-format';
import type { LokiCollection, LokiDb, LokiModule } from './loki-shape';

export interface LokiJournalOptions {
  /** How often dirty journals are fdatasync'd. @default 100 */
  fsyncIntervalMs?: number;
  /** Compact once a journal exceeds this many bytes and the snapshot's size. @default 16 MiB */
  compactMinBytes?: number;
  log?: (message: string) => void;
}

const COLLECTION_METHODS = ['insertOne', 'update', 'remove', 'removeBatchByPositions', 'clear'] as const;
const DB_METHODS = [
  'configureOptions',
  'addCollection',
  'removeCollection',
  'renameCollection',
  'loadJSONObject',
  'saveDatabase',
  'close',
  'serialize',
  'serializeReplacer',
  'getCollection',
] as const;

/** Fails with a clear message when LokiJS no longer has the methods the journal hooks. */
export function verifyLokiShape(loki: LokiModule): void {
  const missing = [
    ...DB_METHODS.filter((m) => typeof loki?.prototype?.[m] !== 'function').map((m) => `Loki#${m}`),
    ...COLLECTION_METHODS.filter((m) => typeof loki?.Collection?.prototype?.[m] !== 'function').map(
      (m) => `Collection#${m}`,
    ),
    ...(typeof http.ServerResponse.prototype.writeHead === 'function' ? [] : ['ServerResponse#writeHead']),
  ];
  if (missing.length)
    throw new Error(
      `The Azurite journal cannot hook LokiJS: ${missing.join(', ')} missing. Azurite's LokiJS changed shape; ` +
        'pin azurite to ~3.37.0 (LokiJS 1.5) or update lib/stack/loki-journal.ts.',
    );
}

/**
 * The journals of every file-persisted LokiJS database in this process. `install()` hooks LokiJS's
 * prototypes, so there is one per process and it must run before Azurite creates its databases.
 */
export class LokiJournals {
  private readonly byDb = new Map<LokiDb, DbJournal>();
  private readonly byCollection = new WeakMap<object, DbJournal>();
  private readonly waiting = new Set<DbJournal>();
  private scheduled = false;
  private readonly fsyncIntervalMs: number;
  private readonly compactMinBytes: number;
  private readonly log: (m: string) => void;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly loki: LokiModule,
    opts: LokiJournalOptions = {},
  ) {
    verifyLokiShape(loki);
    this.fsyncIntervalMs = opts.fsyncIntervalMs ?? 100;
    this.compactMinBytes = opts.compactMinBytes ?? 16 * 1024 * 1024;
    this.log = opts.log ?? (() => {});
  }

  install(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const L = this.loki.prototype;
    const C = this.loki.Collection.prototype;
    const replacer = L.serializeReplacer as (k: string, v: unknown) => unknown;
    const orig = Object.fromEntries([
      ...DB_METHODS.map((m) => [m, L[m]]),
      ...COLLECTION_METHODS.map((m) => [`c.${m}`, C[m]]),
    ]);

    // A database persisted to a file gets a journal; LokiJS's own autosave is replaced by it.
    L.configureOptions = function (this: LokiDb, options: any, initialConfig: boolean) {
      if (initialConfig && options?.persistenceMethod === 'fs' && !self.byDb.has(this)) {
        self.byDb.set(this, new DbJournal(this, self.compactMinBytes, self.log));
        options = { ...options, autosave: false };
      }
      return orig.configureOptions.call(this, options, initialConfig);
    };
    L.addCollection = function (this: LokiDb, name: string, options?: unknown) {
      const j = self.byDb.get(this);
      const existed = j && this.collections.some((c) => c.name === name);
      const coll = orig.addCollection.call(this, name, options) as LokiCollection;
      if (j && !existed) {
        self.byCollection.set(coll, j);
        self.record(j, { c: name, op: 'add', ...(options ? { o: options as Record<string, unknown> } : {}) });
      }
      return coll;
    };
    L.removeCollection = function (this: LokiDb, name: string) {
      const j = self.byDb.get(this);
      const coll = j && this.collections.find((c) => c.name === name);
      const r = orig.removeCollection.call(this, name);
      if (j && coll) {
        self.byCollection.delete(coll);
        self.record(j, { c: name, op: 'drop' });
      }
      return r;
    };
    L.renameCollection = function (this: LokiDb, oldName: string, newName: string) {
      const r = orig.renameCollection.call(this, oldName, newName);
      const j = self.byDb.get(this);
      if (j && r) self.record(j, { c: oldName, op: 'rename', to: newName });
      return r;
    };
    L.loadJSONObject = function (this: LokiDb, dbObject: any, options: unknown) {
      const j = self.byDb.get(this);
      if (!j || j.loaded) return orig.loadJSONObject.call(this, dbObject, options);
      j.replaying = true;
      try {
        orig.loadJSONObject.call(this, dbObject, options);
        for (const c of this.collections) self.byCollection.set(c, j);
        j.replay(typeof dbObject?.[GEN_FIELD] === 'number' ? dbObject[GEN_FIELD] : 0);
        for (const c of this.collections) self.byCollection.set(c, j);
      } finally {
        j.replaying = false;
      }
    };
    L.saveDatabase = function (this: LokiDb, callback?: (err: unknown) => void) {
      const j = self.byDb.get(this);
      if (!j) return orig.saveDatabase.call(this, callback);
      let err: unknown = null;
      try {
        self.flush();
        j.compactIfChanged();
      } catch (e) {
        err = e;
      }
      if (callback) setImmediate(() => callback(err));
    };
    // Azurite closes its stores at shutdown: fold the journal in so the next start reads one file. The
    // journal stays open: a request still finishing after its store closed is journaled, not dropped.
    L.close = function (this: LokiDb, callback?: (err?: unknown) => void) {
      const j = self.byDb.get(this);
      if (j) {
        self.flush();
        self.compactQuietly(j);
      }
      return orig.close.call(this, callback);
    };

    const owner = (coll: object): DbJournal | undefined => self.byCollection.get(coll);
    const setLine = (coll: LokiCollection, doc: unknown): string =>
      `{"c":${JSON.stringify(coll.name)},"op":"set","d":${JSON.stringify(doc, replacer)}}\n`;
    C.insertOne = function (this: LokiCollection, doc: unknown, bulkInsert?: boolean) {
      const r = orig['c.insertOne'].call(this, doc, bulkInsert);
      const j = owner(this);
      if (j && r) self.push(j, setLine(this, r));
      return r;
    };
    C.update = function (this: LokiCollection, doc: unknown) {
      // An array is updated one document at a time through this same method.
      if (Array.isArray(doc)) return orig['c.update'].call(this, doc);
      const r = orig['c.update'].call(this, doc);
      const j = owner(this);
      if (j && r) self.push(j, setLine(this, r));
      return r;
    };
    C.remove = function (this: LokiCollection, doc: any) {
      // An array goes through removeBatchByPositions (hooked below).
      if (Array.isArray(doc)) return orig['c.remove'].call(this, doc);
      const id = typeof doc === 'number' ? doc : doc?.$loki;
      const r = orig['c.remove'].call(this, doc);
      const j = owner(this);
      if (j && r !== null && typeof id === 'number') self.record(j, { c: this.name, op: 'del', ids: [id] });
      return r;
    };
    C.removeBatchByPositions = function (this: LokiCollection, positions: number[]) {
      const ids = positions.map((p) => this.data[p]?.$loki).filter((n) => typeof n === 'number');
      const r = orig['c.removeBatchByPositions'].call(this, positions);
      const j = owner(this);
      if (j && r !== null && ids.length) self.record(j, { c: this.name, op: 'del', ids });
      return r;
    };
    C.clear = function (this: LokiCollection, options?: unknown) {
      const r = orig['c.clear'].call(this, options);
      const j = owner(this);
      if (j) self.record(j, { c: this.name, op: 'clear' });
      return r;
    };

    // Nothing is answered before what it changed is in the journal.
    const writeHead = http.ServerResponse.prototype.writeHead;
    http.ServerResponse.prototype.writeHead = function (this: http.ServerResponse, ...args: any[]) {
      if (!self.flush()) {
        // Not journaled (disk full, I/O error): the client must not take the change as done.
        this.destroy(new Error('the Azurite journal could not be written'));
        return this;
      }
      return (writeHead as (...a: any[]) => http.ServerResponse).apply(this, args);
    } as typeof writeHead;

    this.timer = setInterval(() => {
      for (const j of this.byDb.values()) j.sync();
    }, this.fsyncIntervalMs);
    this.timer.unref();
    // A clean exit syncs what the timer has not yet.
    process.once('exit', () => {
      for (const j of this.byDb.values()) j.syncNow();
    });
  }

  private record(j: DbJournal, r: JournalRecord): void {
    this.push(j, `${JSON.stringify(r)}\n`);
  }

  private push(j: DbJournal, line: string): void {
    if (!j.take(line)) return;
    this.waiting.add(j);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes every pending line; false when a journal could not be written (its lines stay pending). */
  flush(): boolean {
    if (this.waiting.size === 0) return true;
    let ok = true;
    for (const j of [...this.waiting]) {
      if (j.write()) {
        this.waiting.delete(j);
        if (j.wantsCompaction()) setImmediate(() => this.compactQuietly(j));
      } else ok = false;
    }
    return ok;
  }

  private compactQuietly(j: DbJournal): void {
    try {
      j.compactIfChanged();
    } catch (e) {
      // The journal keeps growing and stays valid; the next compaction tries again.
      this.log(`azurite: compacting ${j.file} failed: ${(e as Error).message}`);
    }
  }

  /**
   * Checks that each of `files` (the databases Azurite must have opened) is journaled and its journal is
   * open, compacting any that Azurite did not save yet. Throws naming what is missing.
   */
  verify(files: string[]): void {
    const byFile = new Map([...this.byDb.values()].map((j) => [j.file, j]));
    const missing = files.filter((f) => !byFile.has(f));
    if (missing.length)
      throw new Error(
        `Azurite did not open ${missing.join(', ')} through the journaled LokiJS: its metadata stores changed ` +
          'shape. Pin azurite to ~3.37.0 or update lib/stack/loki-journal.ts.',
      );
    for (const f of files) byFile.get(f)!.ensureOpen();
  }

  restores(): JournalRestore[] {
    return [...this.byDb.values()].flatMap((j) => (j.restore ? [j.restore] : []));
  }
}
