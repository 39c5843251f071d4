/**
 * Behaviour of the Azurite metadata journal (lib/stack/loki-journal.ts) on Azurite's own LokiJS, without
 * Azurite: a database that is never saved again after its first compaction (the process "dies") is
 * rebuilt from snapshot + journal with the same documents, ids, indices and collections; a torn last line
 * is cut off; a journal of an older generation (a compaction interrupted between its two renames) is not
 * applied twice. The hooks are process-wide, so this file runs them in its own test process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LokiJournals } from '../../lib/stack/loki-journal';
import type { LokiModule } from '../../lib/stack/loki-shape';

/* eslint-disable @typescript-eslint/no-require-imports */
const Loki = require(
  require.resolve('lokijs', { paths: [path.dirname(require.resolve('azurite/package.json'))] }),
) as LokiModule & (new (file: string, opts: unknown) => any);
const journals = new LokiJournals(Loki);
journals.install();

/** Opens the database as Azurite does: load if the file exists, create collections, save. */
async function open(file: string): Promise<any> {
  const db = new Loki(file, { persistenceMethod: 'fs', autosave: true, autosaveInterval: 5000 });
  if (fs.existsSync(file))
    await new Promise<void>((ok, ko) => db.loadDatabase({}, (e: any) => (e ? ko(e) : ok())));
  if (!db.getCollection('$TABLES$')) db.addCollection('$TABLES$', { indices: ['account', 'table'] });
  if (!db.getCollection('$SERVICES$')) db.addCollection('$SERVICES$', { unique: ['accountName'] });
  await new Promise<void>((ok, ko) => db.saveDatabase((e: any) => (e ? ko(e) : ok())));
  return db;
}

/** What a reader sees: every collection with its documents (without LokiJS's `meta`). */
function contents(db: any): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const c of db.collections)
    out[c.name] = c.data.map(({ meta: _meta, ...d }: any) => d).sort((a: any, b: any) => a.$loki - b.$loki);
  return out;
}

async function workload(db: any): Promise<void> {
  const tables = db.getCollection('$TABLES$');
  for (const t of ['history', 'jobs', 'doomed']) {
    tables.insert({ account: 'dev', table: t });
    db.addCollection(`dev$${t}`, { indices: ['PartitionKey', 'RowKey'] });
  }
  const history = db.getCollection('dev$history');
  history.insert(
    Array.from({ length: 50 }, (_, i) => ({ PartitionKey: `i${i % 5}`, RowKey: `r${i}`, v: i })),
  );
  const doc = history.findOne({ PartitionKey: 'i1', RowKey: 'r6' });
  doc.v = 'updated';
  history.update(doc);
  history.remove(history.findOne({ RowKey: 'r7' }));
  history.findAndRemove({ PartitionKey: 'i2' });
  history
    .chain()
    .find({ PartitionKey: 'i3' })
    .update((d: any) => (d.v = `batch-${d.v}`));
  db.getCollection('$SERVICES$').insert({ accountName: 'dev', cors: [] });
  // A table deleted and created again (Azurite drops and re-adds its collection).
  tables.findAndRemove({ table: 'doomed' });
  db.removeCollection('dev$doomed');
  db.removeCollection('dev$jobs');
  db.addCollection('dev$jobs', { indices: ['PartitionKey', 'RowKey'] });
  db.getCollection('dev$jobs').insert({ PartitionKey: 'run', RowKey: 'job-1', state: 'running' });
  journals.flush();
}

test('a database that was never saved after its changes is rebuilt from its journal, indices and ids included', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-loki-'));
  const file = path.join(dir, '__azurite_db_table__.json');
  try {
    const db = await open(file);
    await workload(db);
    const expected = contents(db);
    const maxId = db.getCollection('dev$history').maxId;
    // "Crash": nothing is saved or closed; a new process opens the files.
    const again = await open(file);
    assert.deepEqual(contents(again), expected);
    // The restart compacted: the journal is empty again, the snapshot holds everything.
    assert.equal(fs.readFileSync(`${file}.journal`, 'utf8').split('\n').filter(Boolean).length, 1);
    const history = again.getCollection('dev$history');
    assert.equal(history.maxId, maxId);
    // Indexed queries, id lookups and unique constraints work on the rebuilt collections.
    assert.deepEqual(
      history.find({ PartitionKey: 'i3' }).map((d: any) => d.v),
      [
        'batch-3',
        'batch-8',
        'batch-13',
        'batch-18',
        'batch-23',
        'batch-28',
        'batch-33',
        'batch-38',
        'batch-43',
        'batch-48',
      ],
    );
    assert.equal(history.findOne({ RowKey: 'r6' }).v, 'updated');
    assert.equal(history.get(history.findOne({ RowKey: 'r9' }).$loki).RowKey, 'r9');
    assert.equal(history.insert({ PartitionKey: 'x', RowKey: 'new' }).$loki, maxId + 1);
    assert.throws(() => again.getCollection('$SERVICES$').insert({ accountName: 'dev' }), /Duplicate key/);
    assert.equal(again.getCollection('dev$doomed'), null);
    assert.equal(again.getCollection('dev$jobs').count(), 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn last journal line is cut off, and a journal of an older generation is not applied again', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-loki-torn-'));
  const file = path.join(dir, '__azurite_db_queue__.json');
  try {
    const db = await open(file);
    const msgs = db.addCollection('$MESSAGES$', { indices: ['queueName'] });
    journals.flush();
    msgs.insert({ queueName: 'q', messageId: 'm1' });
    msgs.insert({ queueName: 'q', messageId: 'm2' });
    journals.flush();
    fs.appendFileSync(`${file}.journal`, '{"c":"$MESSAGES$","op":"set","d":{"queueN');
    const again = await open(file);
    assert.deepEqual(
      again
        .getCollection('$MESSAGES$')
        .find()
        .map((d: any) => d.messageId),
      ['m1', 'm2'],
    );

    // An interrupted compaction: the next generation's snapshot is in place, the old journal still there.
    // Its lines are in the snapshot already; one that is not (deleting m1) shows it is not applied.
    const oldGen = JSON.parse(fs.readFileSync(`${file}.journal`, 'utf8').split('\n')[0]!).gen as number;
    again.getCollection('$MESSAGES$').insert({ queueName: 'q', messageId: 'm3' });
    journals.flush();
    await new Promise<void>((ok) => again.saveDatabase(() => ok()));
    const m1 = again.getCollection('$MESSAGES$').findOne({ messageId: 'm1' }).$loki as number;
    fs.writeFileSync(
      `${file}.journal`,
      `{"v":1,"gen":${oldGen}}\n{"c":"$MESSAGES$","op":"del","ids":[${m1}]}\n`,
    );
    const third = await open(file);
    assert.deepEqual(
      third
        .getCollection('$MESSAGES$')
        .find()
        .map((d: any) => d.messageId),
      ['m1', 'm2', 'm3'],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a LokiJS without the hooked methods is refused at start, naming what is missing and the version to pin', () => {
  const changed = { prototype: { ...Loki.prototype, saveDatabase: undefined }, Collection: Loki.Collection };
  assert.throws(
    () => new LokiJournals(changed as unknown as LokiModule),
    /Loki#saveDatabase missing.*pin azurite to ~3\.37\.0/,
  );
});
