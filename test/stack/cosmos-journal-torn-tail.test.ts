import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { startCosmos } from '../../lib/stack/cosmos';

const client = (port: number): CosmosClient =>
  new CosmosClient({
    endpoint: `http://127.0.0.1:${port}`,
    key: 'k',
    connectionPolicy: { enableEndpointDiscovery: false },
  });

test('a journal cut mid-line by a crash restores every whole line and keeps accepting writes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-torn-'));
  try {
    let cosmos = await startCosmos({ host: '127.0.0.1', dir });
    const db = (await client(cosmos.port).databases.createIfNotExists({ id: 'sluice' })).database;
    const c = (await db.containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/id'] } }))
      .container;
    for (let i = 0; i < 10; i++) await c.items.create({ id: `d${i}` });
    cosmos.process.kill('SIGKILL');
    await new Promise((r) => cosmos.process.once('exit', r));
    // What a crash in the middle of an append leaves behind.
    fs.appendFileSync(path.join(dir, 'journal.ndjson'), '{"k":"doc","op":"set","n":11,"data":{"id":"half');

    cosmos = await startCosmos({ host: '127.0.0.1', dir });
    const restore = cosmos.restore as { journalRecords: number; discardedTailBytes: number };
    assert.ok(restore.discardedTailBytes > 0);
    const c2 = client(cosmos.port).database('sluice').container('c');
    await c2.items.create({ id: 'after' });
    const ids = (await c2.items.query('SELECT VALUE c.id FROM c').fetchAll()).resources;
    assert.equal(ids.length, 11);
    assert.ok(ids.includes('after') && !ids.includes('half'));
    await cosmos.stop();

    cosmos = await startCosmos({ host: '127.0.0.1', dir });
    const again = (
      await client(cosmos.port)
        .database('sluice')
        .container('c')
        .items.query('SELECT VALUE c.id FROM c')
        .fetchAll()
    ).resources;
    assert.deepEqual([...again].sort(), [...ids].sort());
    await cosmos.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
