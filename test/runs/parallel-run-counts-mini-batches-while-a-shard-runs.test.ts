import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { docsStep, publish, startRun, step, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

interface Item {
  batch: number;
  state: string;
  shard?: number;
}

interface Counts {
  total: number;
  running: number;
  succeeded: number;
  failed: number;
}

test('a parallelRun shows its mini-batches ending while a shard runs (counts and the per-mini-batch view), not only when the shard ends', async () => {
  // One batch slot: 12 one-file mini-batches go out as 4 shards of 3, one shard at a time. Each mini-batch
  // takes 1.5 s, so a shard's heartbeats (every 2 s) see its first and second mini-batches end before it does.
  await publish(sluice, {
    name: 'live-shards',
    settings: { maxConcurrency: 1 },
    steps: {
      make: docsStep(12),
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 1,
        command: 'sleep 1.5; cat $(cat ${{minibatch}}) > ${{outputs.scores}}',
        outputs: { scores: { type: 'file' } },
      },
    },
  });
  const runId = await startRun(sluice, 'live-shards');
  const seen: Counts[] = [];
  const views: Item[][] = [];
  for (;;) {
    const run = await sluice.json<{
      status: string;
      steps: Array<{ name: string; status: string; batches?: Counts }>;
    }>(`/api/runs/${runId}`);
    const s = run.steps.find((x) => x.name === 'score');
    if (s?.status === 'Running' && s.batches) {
      seen.push(s.batches);
      const b = await sluice.json<{ items: Item[] }>(`/api/runs/${runId}/steps/score/batches`);
      views.push(b.items);
    }
    if (['Completed', 'Failed', 'Canceled'].includes(run.status)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const done = await waitForRun(sluice, runId);
  assert.equal(done.status, 'Completed', JSON.stringify(done.steps));
  assert.deepEqual(step(done, 'score').batches, { total: 12, running: 0, succeeded: 12, failed: 0 });
  for (const c of seen) {
    assert.equal(c.total, 12);
    assert.ok(c.running + c.succeeded + c.failed <= c.total, JSON.stringify(c));
  }
  // The per-mini-batch view too: a shard seen half-way has one mini-batch ended and the next running.
  for (const items of views)
    assert.ok(items.filter((i) => i.state === 'running').length <= 1, JSON.stringify(items));
  assert.ok(
    views.some((items) =>
      items.some(
        (i) =>
          i.state === 'succeeded' &&
          items.some((j) => j.shard === i.shard && j.batch > i.batch && j.state === 'running'),
      ),
    ),
    `a running shard's ended mini-batch was shown ended: ${JSON.stringify(views)}`,
  );
  // Shards end three mini-batches at a time: any other count is a shard seen part-way.
  assert.ok(
    seen.some((c) => c.succeeded % 3 !== 0),
    `a shard's first mini-batch was counted before the shard ended: ${JSON.stringify(seen)}`,
  );
});
