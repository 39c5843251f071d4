/**
 * Replay of journal records into a loaded LokiJS database: pure changes to its collections, no I/O.
 * Documents are upserted and removed by `$loki`, keeping each collection's `data` ordered by id as
 * LokiJS relies on; `reindex` then rebuilds what LokiJS derives from `data` for every collection touched.
 * Records for a collection dropped later in the history are skipped.
 */
import type { Doc, JournalRecord } from './loki-journal-format';
import type { LokiCollection, LokiDb } from './loki-shape';

/** Applies one record; adds each collection it changed to `touched`. */
export function applyRecord(db: LokiDb, r: JournalRecord, touched: Set<LokiCollection>): void {
  switch (r.op) {
    case 'add': {
      // Recorded only when the collection did not exist, so a fresh one is what followed.
      if (db.getCollection(r.c)) db.removeCollection(r.c);
      touched.add(db.addCollection(r.c, r.o));
      return;
    }
    case 'drop':
      db.removeCollection(r.c);
      return;
    case 'rename':
      db.renameCollection(r.c, r.to);
      return;
    default:
  }
  const coll = db.collections.find((c) => c.name === r.c);
  if (!coll) return; // dropped later in the history
  touched.add(coll);
  switch (r.op) {
    case 'clear':
      coll.clear();
      return;
    case 'set':
      upsert(coll, r.d);
      return;
    case 'del':
      for (const id of r.ids) {
        const i = position(coll.data, id);
        if (coll.data[i]?.$loki === id) coll.data.splice(i, 1);
      }
      return;
    default:
      assertNever(r);
  }
}

/** `data` is ordered by `$loki` (LokiJS appends with a growing id), as `Collection#get` relies on. */
function position(data: Doc[], id: number): number {
  let lo = 0;
  let hi = data.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (data[mid]!.$loki < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upsert(coll: LokiCollection, doc: Doc): void {
  const i = position(coll.data, doc.$loki);
  if (coll.data[i]?.$loki === doc.$loki) coll.data[i] = doc;
  else coll.data.splice(i, 0, doc);
  if (doc.$loki > coll.maxId) coll.maxId = doc.$loki;
}

/** Rebuilds what LokiJS derives from `data`: the id index, binary indices, unique indices (lazily). */
export function reindex(coll: LokiCollection): void {
  coll.idIndex = null;
  coll.ensureId();
  coll.ensureAllIndexes(true);
  coll.constraints.unique = {};
  coll.dirty = true;
}

function assertNever(x: never): never {
  throw new Error(`unknown journal record ${JSON.stringify(x)}`);
}
