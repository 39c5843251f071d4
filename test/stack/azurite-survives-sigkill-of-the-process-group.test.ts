/**
 * Behaviour: SIGKILL of the whole process group (the stack's owner, Azurite and the Cosmos server at once,
 * as a container OOM kill or `kill -9 -PGID` does) loses no acknowledged storage change: blobs, queue
 * messages (sent, received, deleted), table entities (single writes, a batch, a delete), containers and
 * tables created the moment before the kill are all there after a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { readStackFile, startEmbeddedStack } from '../../lib/stack';

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

/** The stack in its own process group, as `sluice host` runs it; resolves once it is up. */
async function startOwnerGroup(dataDir: string): Promise<{ pid: number; conn: string }> {
  const owner = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(path.resolve(__dirname, '../../lib/stack/index.js'))})` +
        `.startEmbeddedStack({ dataDir: process.argv[1], env: {} }).then(() => console.log('up'))`,
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  await new Promise<void>((resolve, reject) => {
    owner.once('exit', (code) => reject(new Error(`the stack owner exited (${code})`)));
    readline.createInterface({ input: owner.stdout! }).on('line', (l) => l === 'up' && resolve());
  });
  const file = readStackFile(dataDir)!;
  assert.equal(file.pid, owner.pid);
  return { pid: owner.pid!, conn: file.env.AzureWebJobsStorage };
}

const table = (conn: string, name: string): TableClient =>
  TableClient.fromConnectionString(conn, name, { allowInsecureConnection: true });

test('a SIGKILL of the stack’s whole process group loses no acknowledged blob, queue or table change', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-group-kill-'));
  try {
    const { pid, conn } = await startOwnerGroup(dataDir);
    const file = readStackFile(dataDir)!;

    const blobs = BlobServiceClient.fromConnectionString(conn);
    const container = blobs.getContainerClient('artifacts');
    await container.create();
    await container.getBlockBlobClient('model.bin').uploadData(Buffer.alloc(200_000, 7));
    const log = container.getAppendBlobClient('logs/step.log');
    await log.create();
    await log.appendBlock('line 1\n', 7);
    await log.appendBlock('line 2\n', 7);

    const queue = QueueServiceClient.fromConnectionString(conn).getQueueClient('sluice-jobs-local');
    await queue.create();
    for (const m of ['job-1', 'job-2', 'job-3']) await queue.sendMessage(m);
    const [first] = (await queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    await queue.deleteMessage(first!.messageId, first!.popReceipt);

    await TableServiceClient.fromConnectionString(conn, { allowInsecureConnection: true }).createTable(
      'history',
    );
    const t = table(conn, 'history');
    await t.createEntity({ partitionKey: 'i1', rowKey: 'a', v: 1 });
    await t.submitTransaction(
      Array.from(
        { length: 10 },
        (_, i) => ['upsert', { partitionKey: 'i2', rowKey: `r${i}`, v: i }] as const,
      ),
    );
    await t.updateEntity({ partitionKey: 'i1', rowKey: 'a', v: 2 }, 'Replace');
    await t.createEntity({ partitionKey: 'i1', rowKey: 'gone', v: 0 });
    await t.deleteEntity('i1', 'gone');

    // Everything above was acknowledged; now the whole group dies at once.
    process.kill(-pid, 'SIGKILL');
    await Promise.all([waitGone(pid), waitGone(file.azurite!.pid), waitGone(file.cosmos!.pid)]);

    const stack = await startEmbeddedStack({ dataDir, env: {} });
    try {
      const c2 = stack.env.AzureWebJobsStorage;
      const box = BlobServiceClient.fromConnectionString(c2).getContainerClient('artifacts');
      assert.deepEqual(await box.getBlobClient('model.bin').downloadToBuffer(), Buffer.alloc(200_000, 7));
      assert.equal(
        (await box.getBlobClient('logs/step.log').downloadToBuffer()).toString(),
        'line 1\nline 2\n',
      );

      const q = QueueServiceClient.fromConnectionString(c2).getQueueClient('sluice-jobs-local');
      const props = await q.getProperties();
      assert.equal(props.approximateMessagesCount, 2, 'two messages left: one was received and deleted');

      const t2 = table(c2, 'history');
      assert.equal((await t2.getEntity<{ v: number }>('i1', 'a')).v, 2);
      const batch: number[] = [];
      for await (const e of t2.listEntities<{ v: number }>({
        queryOptions: { filter: "PartitionKey eq 'i2'" },
      }))
        batch.push(e.v);
      assert.deepEqual(batch, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await assert.rejects(t2.getEntity('i1', 'gone'), (e: any) => e.statusCode === 404);
    } finally {
      await stack.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
