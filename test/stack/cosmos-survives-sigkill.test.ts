import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { CosmosClient } from '@azure/cosmos';
import { readStackFile, startEmbeddedStack } from '../../lib/stack';

const cosmos = (endpoint: string): CosmosClient =>
  new CosmosClient({ endpoint, key: 'k', connectionPolicy: { enableEndpointDiscovery: false } });

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`process ${pid} is still running`);
}

test('acknowledged Cosmos writes survive SIGKILL of the Cosmos process and SIGKILL of the stack owner', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cosmos-kill-'));
  try {
    // 1. SIGKILL of the Cosmos child: the journal (written before each response) is replayed.
    let stack = await startEmbeddedStack({ dataDir, env: {} });
    let c = (
      await (
        await cosmos(stack.env.COSMOS_ENDPOINT).databases.createIfNotExists({ id: 'sluice' })
      ).database.containers.createIfNotExists({ id: 'docs', partitionKey: { paths: ['/id'] } })
    ).container;
    for (let i = 0; i < 50; i++) await c.items.create({ id: `d${i}` });
    await c.item('d7', 'd7').delete();
    process.kill(stack.pids!.cosmos!, 'SIGKILL');
    await waitGone(stack.pids!.cosmos!);
    await stack.stop();

    stack = await startEmbeddedStack({ dataDir, env: {} });
    c = cosmos(stack.env.COSMOS_ENDPOINT).database('sluice').container('docs');
    let { resources } = await c.items.query('SELECT VALUE c.id FROM c').fetchAll();
    assert.equal(resources.length, 49);
    assert.ok(!resources.includes('d7'));
    await stack.stop();

    // 2. SIGKILL of the process that owns the stack: its children notice, write their data and exit.
    const owner = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(path.resolve(__dirname, '../../lib/stack/index.js'))})` +
          `.startEmbeddedStack({ dataDir: process.argv[1], env: {} }).then(() => console.log('up'))`,
        dataDir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(owner.stdout!, 'data');
    const file = readStackFile(dataDir)!;
    assert.equal(file.pid, owner.pid);
    c = cosmos(file.env.COSMOS_ENDPOINT).database('sluice').container('docs');
    await c.items.create({ id: 'after-owner-kill' });
    owner.kill('SIGKILL');
    await waitGone(file.cosmos!.pid);
    await waitGone(file.azurite!.pid);

    stack = await startEmbeddedStack({ dataDir, env: {} });
    c = cosmos(stack.env.COSMOS_ENDPOINT).database('sluice').container('docs');
    ({ resources } = await c.items.query('SELECT VALUE c.id FROM c').fetchAll());
    assert.equal(resources.length, 50);
    assert.ok(resources.includes('after-owner-kill'));
    await stack.stop();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
