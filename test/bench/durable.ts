/**
 * Durable engine throughput with persistence on (Azurite on disk), through the real host and
 * durable-functions' own client:
 *   (a) one orchestration calling 1,000 no-op activities in sequence   → durable.sequential_activities_per_s
 *   (b) one fan-out/fan-in of 1,000 no-op activities                    → durable.fanout_activities_per_s
 *   (c) 200 orchestrations started at once, 5 sequential activities each → durable.orchestrations_per_s
 * Also prints the replay cost of the longest history seen (durable.replay_ms_per_1000_events).
 * Sizes can be scaled down with SLUICE_BENCH_DURABLE_SCALE (e.g. 0.1) for a quick look.
 */
import { performance } from 'node:perf_hooks';
import { startDurableHost, startTestAzurite } from '../durable/support/durable-host';

function line(name: string, value: number): void {
  console.log(`${name} ${value.toFixed(1)}`);
}

export async function run(): Promise<void> {
  const scale = Number(process.env.SLUICE_BENCH_DURABLE_SCALE ?? '1') || 1;
  const N = Math.max(10, Math.round(1000 * scale));
  const M = Math.max(10, Math.round(200 * scale));
  const storage = await startTestAzurite({ persistent: true });
  const h = await startDurableHost(storage, { env: { SLUICE_LOG_INVOCATIONS: '0' } });
  try {
    const { client, engine } = h;
    // Warm-up: module caches, JIT, table creation.
    await engine.waitFor(await client.startNew('sequence', { input: { n: 20, activity: 'noop' } }));

    let t = performance.now();
    const s0 = { ...engine.stats };
    const a = await client.startNew('sequence', { input: { n: N, activity: 'noop' } });
    await engine.waitFor(a);
    const aMs = performance.now() - t;
    check(engine, a);
    line('durable.sequential_activities_per_s', (N / aMs) * 1000);
    const s1 = engine.stats;
    // Replay is O(history) per episode: the cost per replayed event, and the episodes/commits ratio
    // that group commit achieves.
    line(
      'durable.replay_us_per_event',
      ((s1.orchestratorMs - s0.orchestratorMs) / (s1.replayedEvents - s0.replayedEvents)) * 1000,
    );
    line(
      'durable.sequential_episodes_per_commit',
      (s1.episodes - s0.episodes) / Math.max(1, s1.commits - s0.commits),
    );

    t = performance.now();
    const b = await client.startNew('fanOut', { input: { n: N, activity: 'noop' } });
    await engine.waitFor(b);
    const bMs = performance.now() - t;
    check(engine, b);
    line('durable.fanout_activities_per_s', (N / bMs) * 1000);

    t = performance.now();
    const ids = await Promise.all(
      Array.from({ length: M }, () => client.startNew('sequence', { input: { n: 5, activity: 'noop' } })),
    );
    await Promise.all(ids.map((id) => engine.waitFor(id)));
    const cMs = performance.now() - t;
    for (const id of ids) check(engine, id);
    line('durable.orchestrations_per_s', (M / cMs) * 1000);
  } finally {
    await h.stop();
    await storage.stop();
  }
}

function check(
  engine: { instances: Map<string, { rec: { status: string; output: string | null } }> },
  id: string,
): void {
  const s = engine.instances.get(id)?.rec;
  if (s?.status !== 'Completed') throw new Error(`benchmark instance ${id} ended ${s?.status}: ${s?.output}`);
}

if (require.main === module) {
  run().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
