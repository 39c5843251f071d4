/**
 * The file format of an Azurite database's journal (`<database file>.journal`). The first line is a header
 * `{"v":1,"gen":G}`; every further line is one `JournalRecord`. The database file (the snapshot) carries
 * its generation in its own property `sluiceJournalGen`; a journal is replayed only when its generation
 * equals the snapshot's. A tail that is not a whole, parseable line is an unfinished write: it is cut off
 * the file when read.
 */
import { readJsonLines } from './json-lines';

/** The snapshot's own property holding its generation (serialized with the database by LokiJS). */
export const GEN_FIELD = 'sluiceJournalGen';
export const FORMAT_VERSION = 1;
export const JOURNAL_SUFFIX = '.journal';

/** A LokiJS document as stored: `$loki` is its id, in increasing order within a collection. */
export interface Doc {
  $loki: number;
  [field: string]: unknown;
}

/** One journal line. */
export type JournalRecord =
  | { c: string; op: 'set'; d: Doc }
  | { c: string; op: 'del'; ids: number[] }
  | { c: string; op: 'clear' }
  | { c: string; op: 'add'; o?: Record<string, unknown> }
  | { c: string; op: 'drop' }
  | { c: string; op: 'rename'; to: string };

/** The first line of a journal of generation `gen`. */
export function journalHeader(gen: number): string {
  return `${JSON.stringify({ v: FORMAT_VERSION, gen })}\n`;
}

export interface ReadJournal {
  header: { v?: number; gen?: number } | undefined;
  records: JournalRecord[];
  tailBytes: number;
}

/** Reads a journal; a tail that is not a whole, parseable line is cut off the file and reported. */
export function readJournal(file: string): ReadJournal | undefined {
  const read = readJsonLines(file, { cutTail: true });
  if (!read) return undefined;
  const [header, ...records] = read.records;
  return {
    header: header as ReadJournal['header'],
    records: records as JournalRecord[],
    tailBytes: read.tailBytes,
  };
}
