/**
 * Stack figures (`run()` prints `name value` lines, as test/bench/main.ts expects):
 * Cosmos create / point read / replace latency in memory vs with the journal, restore time of a
 * populated store, and time for the embedded stack to answer. Timing lives here, never in tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CosmosClient, type Container } from '@azure/cosmos';
import { startEmbeddedStack } from '../../lib/stack';
import { startCosmos } from '../../lib/stack/cosmos';

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

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  try {
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
