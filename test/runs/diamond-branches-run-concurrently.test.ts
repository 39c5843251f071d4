import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, readJournal, startRun, step, stepCommand, tempJournal, waitForRun } from './helpers';

// Only the host's own agent serves pool "local" (it runs several jobs at once): the overlap below is
// the local agent's concurrency, not a second agent's.
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(async () => {
  await sluice?.stop();
});

test('a diamond DAG runs its two branches at the same time, then joins them', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'diamond',
    settings: { maxConcurrency: 4 },
    steps: {
      top: { command: stepCommand('top', journal), outputs: { o: { type: 'file' } } },
      left: {
        command: stepCommand('left', journal, { ins: ['x'], sleep: 3000 }),
        inputs: { x: '${{steps.top.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
      right: {
        command: stepCommand('right', journal, { ins: ['x'], sleep: 3000 }),
        inputs: { x: '${{steps.top.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
      join: {
        command: stepCommand('join', journal, { ins: ['l', 'r'] }),
        inputs: { l: '${{steps.left.outputs.o}}', r: '${{steps.right.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'diamond'));
  assert.equal(run.status, 'Completed', JSON.stringify(run));
  for (const s of ['top', 'left', 'right', 'join']) assert.equal(step(run, s).status, 'Completed');

  const j = readJournal(journal);
  const at = (name: string, what: string): number => j.find((e) => e.name === name && e.what === what)!.t;
  // The branches' process time windows overlap: each started before the other ended.
  assert.ok(
    at('left', 'start') < at('right', 'end') && at('right', 'start') < at('left', 'end'),
    JSON.stringify(j),
  );
  // The join started after both branches ended, and the branches after the top.
  assert.ok(at('join', 'start') >= Math.max(at('left', 'end'), at('right', 'end')));
  assert.ok(Math.min(at('left', 'start'), at('right', 'start')) >= at('top', 'end'));

  const out = await sluice.api(`/api/runs/${run.runId}/steps/join/outputs/o`);
  assert.equal(out.status, 200);
  assert.match(await out.text(), /^join\(\)\[left\(\)\[top\(\)\[\]\]right\(\)\[top\(\)\[\]\]\]$/);
});

test('a run polled with steps=none answers from its head: status and step counts, no step records', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'diamond-counts',
    settings: { maxConcurrency: 4 },
    steps: {
      top: { command: stepCommand('top', journal, { out: false }) },
      slow: { command: stepCommand('slow', journal, { sleep: 2000, out: false }), after: ['top'] },
      last: { command: stepCommand('last', journal, { out: false }), after: ['slow'] },
    },
  });
  const runId = await startRun(sluice, 'diamond-counts');
  type Head = { status: string; steps?: unknown; stepCounts?: Record<string, number> };
  const seen: Head[] = [];
  for (;;) {
    const head = await sluice.json<Head>(`/api/runs/${runId}?steps=none`);
    seen.push(head);
    if (['Completed', 'Failed', 'Canceled'].includes(head.status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const h of seen) {
    assert.equal(h.steps, undefined, 'no step records');
    const total = Object.values(h.stepCounts ?? {}).reduce((a, b) => a + b, 0);
    assert.equal(total, 3, `every step is counted once: ${JSON.stringify(h.stepCounts)}`);
  }
  assert.deepEqual(seen.at(-1)!.stepCounts, { Completed: 3 });
  assert.ok(
    seen.some(
      (h) =>
        h.status === 'Running' && (h.stepCounts?.Completed ?? 0) >= 1 && (h.stepCounts?.Completed ?? 0) < 3,
    ),
    'counts move while the run runs',
  );
  // The full view is unchanged.
  const full = await waitForRun(sluice, runId);
  assert.equal(full.steps.length, 3);

  const bad = await sluice.api(`/api/runs/${runId}?steps=some`);
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);
  const problem = (await bad.json()) as { errors?: Array<{ pointer: string }> };
  assert.deepEqual(
    problem.errors?.map((e) => e.pointer),
    ['/query/steps'],
  );
});
