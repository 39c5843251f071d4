/**
 * A compaction's two files. `writeSnapshot` writes the whole state of the account's databases as the
 * snapshot of a generation (header, then for each level its rid counter before its resources, parents
 * before children), in 1 MiB writes to `snapshot.ndjson.tmp`, fsynced, renamed over the snapshot, the
 * folder fsynced. `writeEmptyJournal` then replaces the journal with an empty one of the same generation
 * the same way. Between the two renames the old journal no longer matches the snapshot's generation and
 * is ignored on restore, so an interrupted compaction loses nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './atomic-file';
import { fileHeader, JOURNAL, SNAPSHOT } from './cosmos-journal-format';
import type { ItemsLike } from './cosmos-items';

/** Writes the snapshot of generation `gen` from `dbs` (the account's databases), atomically. */
export function writeSnapshot(dir: string, gen: number, dbs: ItemsLike): void {
  const tmp = path.join(dir, `${SNAPSHOT}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    const w = new LineWriter(fd);
    w.line(fileHeader(gen));
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
  fs.renameSync(tmp, path.join(dir, SNAPSHOT));
  fsyncDir(dir);
}

/** Replaces the journal with an empty one of generation `gen`, atomically; returns its size in bytes. */
export function writeEmptyJournal(dir: string, gen: number): number {
  const jtmp = path.join(dir, `${JOURNAL}.tmp`);
  const header = `${fileHeader(gen)}\n`;
  fs.writeFileSync(jtmp, header);
  const jfd = fs.openSync(jtmp, 'r+');
  fs.fsyncSync(jfd);
  fs.closeSync(jfd);
  fs.renameSync(jtmp, path.join(dir, JOURNAL));
  fsyncDir(dir);
  return header.length;
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
