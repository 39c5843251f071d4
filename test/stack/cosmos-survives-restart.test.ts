import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CosmosClient, type Container } from '@azure/cosmos';
import { startEmbeddedStack, type RunningStack } from '../../lib/stack';

function client(stack: RunningStack): CosmosClient {
  return new CosmosClient({
    endpoint: stack.env.COSMOS_ENDPOINT,
    key: stack.env.COSMOS_KEY,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
}

async function all(c: Container): Promise<any[]> {
  const { resources } = await c.items.query('SELECT * FROM c ORDER BY c.id').fetchAll();
  return resources;
}

const start = (dataDir: string) => startEmbeddedStack({ dataDir, env: {} });

test('Cosmos data (databases, containers, documents, etags, deletions) survives a clean restart', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cosmos-'));
  let stack = await start(dataDir);
  try {
    const db = (await client(stack).databases.createIfNotExists({ id: 'sluice' })).database;
    const runs = (await db.containers.createIfNotExists({ id: 'runs', partitionKey: { paths: ['/runId'] } }))
      .container;
    const gone = (await db.containers.createIfNotExists({ id: 'gone', partitionKey: { paths: ['/id'] } }))
      .container;
    for (let i = 0; i < 20; i++)
      await runs.items.create({ id: `r${String(i).padStart(2, '0')}`, runId: `r${i}`, n: i });
    await runs.items.upsert({ id: 'r01', runId: 'r1', n: 100 });
    await runs.item('r02', 'r2').replace({ id: 'r02', runId: 'r2', n: 200 });
    await runs.item('r03', 'r3').patch([{ op: 'set', path: '/status', value: 'done' }]);
    await runs.item('r04', 'r4').delete();
    await runs.items.batch(
      [
        { operationType: 'Create', resourceBody: { id: 'b1', runId: 'batch' } },
        { operationType: 'Create', resourceBody: { id: 'b2', runId: 'batch' } },
      ],
      'batch',
    );
    await runs.scripts.userDefinedFunctions.create({ id: 'double', body: 'function (x) { return x * 2; }' });
    await gone.items.create({ id: 'x' });
    await gone.delete();
    const before = await all(runs);

    await stack.stop();
    stack = await start(dataDir);

    const db2 = client(stack).database('sluice');
    const runs2 = db2.container('runs');
    const after = await all(runs2);
    assert.deepEqual(after, before, 'documents, including _etag, _rid and _ts, are restored as they were');
    assert.equal(after.find((d) => d.id === 'r01').n, 100);
    assert.equal(after.find((d) => d.id === 'r03').status, 'done');
    assert.equal(
      after.find((d) => d.id === 'r04'),
      undefined,
    );
    await assert.rejects(db2.container('gone').read(), (e: any) => e.code === 404);

    const doubled = await runs2.items
      .query('SELECT VALUE udf.double(c.n) FROM c WHERE c.id = "r01"')
      .fetchAll();
    assert.deepEqual(doubled.resources, [200], 'user-defined functions are restored and callable');

    // Optimistic concurrency keeps working across the restart: the old etag still matches.
    const r05 = after.find((d) => d.id === 'r05');
    await runs2
      .item('r05', 'r5')
      .replace({ ...r05, n: 500 }, { accessCondition: { type: 'IfMatch', condition: r05._etag } });
    // New documents get fresh resource ids (no collision with restored ones).
    const { resource: fresh } = await runs2.items.create({ id: 'new', runId: 'n' });
    assert.ok(!after.some((d) => d._rid === fresh!._rid));
    await assert.rejects(runs2.items.create({ id: 'r00', runId: 'r0' }), (e: any) => e.code === 409);
    assert.equal((await all(runs2)).length, before.length + 1);
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
