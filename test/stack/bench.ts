/**
 * Stack figures (`run()` prints `name value` lines, as test/bench/main.ts expects):
 * Cosmos create / point read / replace latency in memory vs with the journal, restore time of a
 * populated store; Azurite table upsert / queue send / small blob upload latency in memory vs with the
 * metadata journal, and its restart time with a populated table; time for the embedded stack to answer.
 * Timing lives here, never in tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CosmosClient, type Container } from '@azure/cosmos';
import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { startEmbeddedStack } from '../../lib/stack';
import { startCosmos } from '../../lib/stack/cosmos';
import { startAzurite } from '../../lib/stack/azurite';
import { azuriteConnectionString } from '../../lib/stack';

const N = Number(process.env.SLUICE_BENCH_N || 2000);

function quantiles(xs: number[]): { p50: number; p99: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p99: q(0.99), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

async function container(endpoint: string): Promise<Container> {
  const client = new CosmosClient({
    endpoint,
    key: 'k',
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  const { database } = await client.databases.createIfNotExists({ id: 'bench' });
  return (await database.containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/pk'] } }))
    .container;
}

async function timeOps(label: string, n: number, op: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 50; i++) await op(-1 - i); // warm up
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    xs.push(performance.now() - t0);
  }
  const { p50, p99, mean } = quantiles(xs);
  console.log(`${label}_ms_mean ${mean.toFixed(3)}`);
  console.log(`${label}_ms_p50 ${p50.toFixed(3)}`);
  console.log(`${label}_ms_p99 ${p99.toFixed(3)}`);
}

const doc = (i: number): Record<string, unknown> => ({
  id: `d${i}`,
  pk: `p${i % 16}`,
  status: 'succeeded',
  params: { lr: 0.01, epochs: 10 },
  tags: ['a', 'b'],
});

/** Azurite write latency with the metadata journal (loki-journal.ts) against the same in memory. */
async function azurite(dir: string): Promise<void> {
  const location = path.join(dir, 'azurite');
  for (const mode of ['journal', 'memory', 'journal'] as const) {
    const az = await startAzurite({ host: '127.0.0.1', inMemory: mode === 'memory', location });
    try {
      const conn = azuriteConnectionString('127.0.0.1', az.ports);
      const table = TableClient.fromConnectionString(conn, `bench${mode}${Date.now()}`, {
        allowInsecureConnection: true,
      });
      await table.createTable();
      await timeOps(`azurite_${mode}_table_upsert`, N, (i) =>
        table.upsertEntity({ partitionKey: `p${Math.abs(i) % 16}`, rowKey: `r${i}`, status: 'done', n: i }),
      );
      const queue = QueueServiceClient.fromConnectionString(conn).getQueueClient(`bench-${Date.now()}`);
      await queue.create();
      await timeOps(`azurite_${mode}_queue_send`, N, (i) => queue.sendMessage(`job-${i}`));
      const box = BlobServiceClient.fromConnectionString(conn).getContainerClient(`bench-${Date.now()}`);
      await box.create();
      const body = Buffer.alloc(1024, 1);
      await timeOps(`azurite_${mode}_blob_upload_1k`, Math.min(N, 500), (i) =>
        box.getBlockBlobClient(`b${i}`).uploadData(body),
      );
    } finally {
      await az.stop();
    }
  }
  // A crash leaves the journal unfolded: SIGKILL, then time the restart that replays it.
  const az = await startAzurite({ host: '127.0.0.1', inMemory: false, location });
  const table = TableClient.fromConnectionString(azuriteConnectionString('127.0.0.1', az.ports), 'replay', {
    allowInsecureConnection: true,
  });
  await table.createTable();
  for (let i = 0; i < N; i++) await table.upsertEntity({ partitionKey: 'p', rowKey: `r${i}`, n: i });
  az.process.kill('SIGKILL');
  await new Promise((r) => az.process.once('exit', r));
  const t0 = performance.now();
  const again = await startAzurite({ host: '127.0.0.1', inMemory: false, location });
  console.log(`azurite_restart_replaying_${N}_entities_ms ${(performance.now() - t0).toFixed(0)}`);
  const table2 = again.restores.find((r) => r.file.endsWith('__azurite_db_table__.json'));
  console.log(`azurite_replay_${table2?.records ?? 0}_records_ms ${table2?.ms ?? -1}`);
  await again.stop();
}

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  try {
    await azurite(dir);
    for (const mode of ['journal', 'memory', 'journal'] as const) {
      const cosmos = await startCosmos({
        host: '127.0.0.1',
        dir: mode === 'journal' ? fs.mkdtempSync(path.join(dir, 'c-')) : undefined,
      });
      try {
        const c = await container(`http://127.0.0.1:${cosmos.port}`);
        await timeOps(`cosmos_${mode}_create`, N, (i) => c.items.create(doc(i)));
        await timeOps(`cosmos_${mode}_read`, N, (i) =>
          c.item(`d${Math.abs(i) % N}`, `p${(Math.abs(i) % N) % 16}`).read(),
        );
        await timeOps(`cosmos_${mode}_replace`, N, (i) => c.items.upsert({ ...doc(Math.abs(i) % N), n: i }));
      } finally {
        await cosmos.stop();
      }
    }
    // Restore: the last journal store holds N documents in its snapshot.
    const last = fs
      .readdirSync(dir)
      .filter((d) => d.startsWith('c-'))
      .sort()
      .pop()!;
    const t0 = performance.now();
    const again = await startCosmos({ host: '127.0.0.1', dir: path.join(dir, last) });
    console.log(`cosmos_restart_with_${N}_docs_ms ${(performance.now() - t0).toFixed(0)}`);
    console.log(`cosmos_restore_${N}_docs_ms ${(again.restore as { ms: number }).ms}`);
    await again.stop();

    const t1 = performance.now();
    const stack = await startEmbeddedStack({ dataDir: path.join(dir, 'stack'), env: {} });
    console.log(`stack_start_persistent_ms ${(performance.now() - t1).toFixed(0)}`);
    await stack.stop();
    const t2 = performance.now();
    const mem = await startEmbeddedStack({ dataDir: dir, inMemory: true, env: {}, writeStackFile: false });
    console.log(`stack_start_in_memory_ms ${(performance.now() - t2).toFixed(0)}`);
    await mem.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void run();
