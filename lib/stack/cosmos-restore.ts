/**
 * Restore of the Cosmos store: the snapshot, then the journal of the same generation, applied record by
 * record in file order. A snapshot that cannot be read whole is an error (it is only ever replaced
 * atomically); a torn tail of the journal (an unfinished write) is cut off the file and reported. A
 * journal of another generation was already folded into the snapshot and is ignored.
 */
import path from 'node:path';
import { FORMAT_VERSION, JOURNAL, type JournalRecord, readLines, SNAPSHOT } from './cosmos-journal-format';
import { itemsFor, type ItemsLike } from './cosmos-items';

export interface RestoreStats {
  snapshotRecords: number;
  journalRecords: number;
  /** A torn or corrupt tail found (and cut off) in the journal. */
  discardedTailBytes: number;
  ms: number;
}

/** What `replayFiles` read. */
export interface ReplayedFiles {
  /** The snapshot's generation (0 without a snapshot). */
  gen: number;
  /** A snapshot and an empty journal of its generation (a clean stop): appending can continue there. */
  reusable: boolean;
  stats: RestoreStats;
}

/** Reads the snapshot and the journal in `dir` and passes each record to `apply`, in order. */
export function replayFiles(
  dir: string,
  apply: (r: JournalRecord) => void,
  log: (m: string) => void,
): ReplayedFiles {
  const stats: RestoreStats = { snapshotRecords: 0, journalRecords: 0, discardedTailBytes: 0, ms: 0 };
  const snap = readLines(path.join(dir, SNAPSHOT));
  let snapGen = 0;
  if (snap) {
    const header = snap.records.shift() as any;
    if (!header || header.v !== FORMAT_VERSION || snap.tailBytes > 0) {
      throw new Error(
        `Cosmos snapshot ${path.join(dir, SNAPSHOT)} is unreadable (written by another version or ` +
          'damaged). Move it aside to start with an empty Cosmos store.',
      );
    }
    snapGen = header.gen;
    for (const r of snap.records) apply(r as JournalRecord);
    stats.snapshotRecords = snap.records.length;
  }
  const jpath = path.join(dir, JOURNAL);
  const journal = readLines(jpath);
  let reusable = false;
  if (journal) {
    const header = journal.records.shift() as any;
    if (header && header.v === FORMAT_VERSION && header.gen === snapGen) {
      reusable = journal.records.length === 0 && journal.tailBytes === 0;
      for (const r of journal.records) apply(r as JournalRecord);
      stats.journalRecords = journal.records.length;
      stats.discardedTailBytes = journal.tailBytes;
      if (journal.tailBytes > 0) {
        log(`cosmos: discarded a torn journal tail of ${journal.tailBytes} bytes (an unfinished write)`);
      }
    }
  }
  return { gen: snapGen, reusable: !!snap && reusable, stats };
}

/** The original `Items#_set` and `Items#delete`, which restore calls so nothing is journaled again. */
export interface ItemSetters {
  set: (d: any) => any;
  del: (id: string, p: unknown) => void;
}

/** Applies one record to the account's databases `dbs`: replace by `_rid`, delete, or rid counters. */
export function applyRecord(dbs: ItemsLike, r: JournalRecord, { set, del }: ItemSetters): void {
  const items = itemsFor(dbs, r);
  if (!items) return; // its parent was deleted later in the history
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

function defineUdf(body: string): unknown {
  // The server compiles UDF bodies the same way when they are created.
  return new Function(`"use strict";return (${body})`)();
}
