/**
 * The journal of one Azurite database file: pending lines, the append (one `write(2)` for all pending
 * lines, never half a line left behind), the `fdatasync` of what was appended, replay after the snapshot
 * loaded, and compaction (the whole database as the next generation's snapshot, written atomically, then
 * an empty journal of that generation). Until the first compaction or a reusable journal opens the file,
 * lines stay pending: the compaction's snapshot contains their changes.
 */
import fs from 'node:fs';
import { writeFileAtomic } from './atomic-file';
import { FORMAT_VERSION, GEN_FIELD, JOURNAL_SUFFIX, journalHeader, readJournal } from './loki-journal-format';
import { applyRecord, reindex } from './loki-replay';
import type { LokiCollection, LokiDb } from './loki-shape';

/** What one database restored at start. */
export interface JournalRestore {
  file: string;
  /** Records replayed from the journal on top of the snapshot. */
  records: number;
  /** A torn tail (an unfinished write) cut off the journal. */
  discardedTailBytes: number;
  ms: number;
}

/** The journal of one database file. */
export class DbJournal {
  readonly file: string;
  readonly journalFile: string;
  /** Set while the snapshot loads and the journal replays: those changes are not recorded again. */
  replaying = false;
  /** The snapshot was loaded (once per process). */
  loaded = false;
  restore: JournalRestore | undefined;
  private fd: number | undefined;
  private gen = 0;
  private pending: string[] = [];
  private bytes = 0;
  private snapshotBytes = 0;
  /** Changes since the last compaction (pending or in the journal). */
  private changed = true;
  private unsynced = false;
  private syncing = false;
  private failing = false;

  constructor(
    private readonly db: LokiDb,
    private readonly compactMinBytes: number,
    private readonly log: (m: string) => void,
  ) {
    this.file = db.filename;
    this.journalFile = `${db.filename}${JOURNAL_SUFFIX}`;
  }

  /** Queues a line; false when it is not to be recorded (during replay). */
  take(line: string): boolean {
    if (this.replaying) return false;
    this.pending.push(line);
    this.changed = true;
    return true;
  }

  /**
   * Appends the pending lines with one write. Before the first compaction there is no journal yet: the
   * lines stay pending and the compaction's snapshot contains their changes.
   */
  write(): boolean {
    if (this.pending.length === 0 || this.fd === undefined) return true;
    const buf = Buffer.from(this.pending.length === 1 ? this.pending[0]! : this.pending.join(''));
    let off = 0;
    try {
      while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    } catch (err) {
      // Never leave half a line: replay stops at the first bad line.
      try {
        fs.ftruncateSync(this.fd, this.bytes);
      } catch {
        // the next compaction rewrites everything
      }
      if (!this.failing)
        this.log(`azurite: appending to ${this.journalFile} failed (${(err as Error).message}); retrying`);
      this.failing = true;
      return false;
    }
    if (this.failing) this.log(`azurite: ${this.journalFile} is written again`);
    this.failing = false;
    this.pending = [];
    this.bytes += buf.length;
    this.unsynced = true;
    return true;
  }

  wantsCompaction(): boolean {
    return this.bytes > Math.max(this.compactMinBytes, this.snapshotBytes);
  }

  /** After the snapshot loaded: applies the journal of the same generation. */
  replay(snapshotGen: number): void {
    const t0 = performance.now();
    this.loaded = true;
    this.gen = snapshotGen;
    try {
      this.snapshotBytes = fs.statSync(this.file).size;
    } catch {
      this.snapshotBytes = 0;
    }
    const read = readJournal(this.journalFile);
    const restore: JournalRestore = { file: this.file, records: 0, discardedTailBytes: 0, ms: 0 };
    if (read && read.header?.v === FORMAT_VERSION && read.header.gen === snapshotGen) {
      const touched = new Set<LokiCollection>();
      for (const r of read.records) applyRecord(this.db, r, touched);
      for (const c of touched) if (this.db.collections.includes(c)) reindex(c);
      restore.records = read.records.length;
      restore.discardedTailBytes = read.tailBytes;
      if (read.tailBytes > 0)
        this.log(`azurite: discarded a torn tail of ${read.tailBytes} bytes from ${this.journalFile}`);
      // A clean stop left an empty journal of this generation: keep appending to it.
      if (read.records.length === 0 && read.tailBytes === 0) {
        this.fd = fs.openSync(this.journalFile, 'a');
        this.bytes = fs.fstatSync(this.fd).size;
        this.changed = false;
      }
    }
    restore.ms = Math.round(performance.now() - t0);
    this.restore = restore;
  }

  /** Opens the journal, compacting first when there is none of the snapshot's generation yet. */
  ensureOpen(): void {
    if (this.fd === undefined) this.compact();
  }

  compactIfChanged(): void {
    if (this.changed || this.fd === undefined) this.compact();
  }

  /** Writes the whole database as the next generation's snapshot, then an empty journal for it. */
  private compact(): void {
    const next = this.gen + 1;
    const before = this.db[GEN_FIELD];
    this.db[GEN_FIELD] = next;
    let text: string;
    try {
      text = this.db.serialize();
    } catch (e) {
      this.db[GEN_FIELD] = before;
      throw e;
    }
    writeFileAtomic(this.file, text);
    // From here the old journal is contained in the snapshot (its generation no longer matches).
    const header = journalHeader(next);
    writeFileAtomic(this.journalFile, header);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = fs.openSync(this.journalFile, 'a');
    this.gen = next;
    this.pending = [];
    this.bytes = header.length;
    this.snapshotBytes = Buffer.byteLength(text);
    this.changed = false;
    this.unsynced = false;
  }

  sync(): void {
    if (!this.unsynced || this.syncing || this.fd === undefined) return;
    this.unsynced = false;
    this.syncing = true;
    const fd = this.fd;
    fs.fdatasync(fd, (err) => {
      this.syncing = false;
      if (err && fd === this.fd) this.log(`azurite: fdatasync of ${this.journalFile} failed: ${err.message}`);
    });
  }

  syncNow(): void {
    if (this.fd === undefined) return;
    try {
      this.write();
      fs.fdatasyncSync(this.fd);
    } catch {
      // exiting anyway
    }
  }
}
