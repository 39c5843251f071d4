/**
 * The file format of the Cosmos store in `<dir>`: `snapshot.ndjson` (the whole state, replaced
 * atomically) and `journal.ndjson` (mutations since that snapshot). Both are JSON lines and begin with a
 * header `{"v":1,"gen":G}`; every further line is one `JournalRecord`. A journal whose generation differs
 * from the snapshot's is already contained in the snapshot (a compaction was interrupted).
 */
import { readJsonLines } from './json-lines';

export type Kind = 'db' | 'coll' | 'doc' | 'udf';

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

export const FORMAT_VERSION = 1;
export const SNAPSHOT = 'snapshot.ndjson';
export const JOURNAL = 'journal.ndjson';

/** The first line of a snapshot or journal of generation `gen`. */
export function fileHeader(gen: number): string {
  return JSON.stringify({ v: FORMAT_VERSION, gen });
}

/** The snapshot, or the journal (whose torn tail is cut off so appends continue on a clean line). */
export function readLines(file: string): { records: unknown[]; tailBytes: number } | undefined {
  return readJsonLines(file, { cutTail: file.endsWith(JOURNAL) });
}
