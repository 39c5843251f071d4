import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a parallelRun step runs its mini-batches in shard jobs, gathers their rows in order, and is reused on a rerun', async () => {
  const journal = tempJournal();
  const files = Array.from({ length: 10 }, (_, i) => `f${i}`).join(' ');
  await publish(sluice, {
    name: 'batch-score',
    settings: { maxConcurrency: 2 },
    steps: {
      make: {
        command: `for f in ${files}; do echo row-$f > \${{outputs.docs}}/$f.csv; done`,
        outputs: { docs: { type: 'directory' } },
      },
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 3,
        command: `wc -l < \${{minibatch}} >> ${JSON.stringify(journal)} && cat $(cat \${{minibatch}}) > \${{outputs.scores}}`,
        outputs: { scores: { type: 'file' } },
      },
    },
  });

  const first = await waitForRun(sluice, await startRun(sluice, 'batch-score'));
  assert.equal(first.status, 'Completed', JSON.stringify(first.steps));
  const batchSizes = fs.readFileSync(journal, 'utf8').trim().split('\n').map(Number).sort();
  assert.deepEqual(batchSizes, [1, 3, 3, 3], 'four mini-batches: 3 + 3 + 3 + 1 files');

  const score = step(first, 'score') as ReturnType<typeof step> & { batches?: unknown };
  assert.deepEqual(score.batches, { total: 4, running: 0, succeeded: 4, failed: 0 });
  const scored = await sluice.api(`/api/runs/${first.runId}/steps/score/outputs/scores`);
  assert.equal(scored.status, 200);
  assert.equal(
    await scored.text(),
    Array.from({ length: 10 }, (_, i) => `row-f${i}\n`).join(''),
    'every row, in batch (path) order',
  );

  const second = await waitForRun(sluice, await startRun(sluice, 'batch-score'));
  assert.equal(second.status, 'Completed');
  assert.equal(step(second, 'score').status, 'Reused');
  assert.deepEqual(step(second, 'score').reusedFrom, { runId: first.runId, step: 'score' });
  assert.deepEqual(step(second, 'score').outputs, step(first, 'score').outputs);
  assert.equal(fs.readFileSync(journal, 'utf8').trim().split('\n').length, 4, 'no batch ran again');
});

test('shards run several mini-batches each, in order, and summaryOnly keeps one folder per mini-batch', async () => {
  const journal = tempJournal();
  const files = Array.from({ length: 10 }, (_, i) => `f${i}`).join(' ');
  await publish(sluice, {
    name: 'shard-score',
    // One batch slot: 4 shards (4 per slot) of 3, 3, 2 and 2 one-file mini-batches.
    settings: { maxConcurrency: 1 },
    steps: {
      make: {
        command: `for f in ${files}; do echo row-$f > \${{outputs.docs}}/$f.csv; done`,
        outputs: { docs: { type: 'directory' } },
      },
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 1,
        command: `echo $SLUICE_JOB_ID $SLUICE_BATCH >> ${JSON.stringify(journal)} && cat $(cat \${{minibatch}}) > \${{outputs.scores}}`,
        outputs: { scores: { type: 'file' } },
      },
      summary: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 4,
        outputAction: 'summaryOnly',
        args: ['sh', '-c', 'wc -l < "$1" > "$2"', 'count', '${{minibatch}}', '${{outputs.counts}}'],
        outputs: { counts: { type: 'file' } },
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'shard-score'));
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps));
  const lines = fs
    .readFileSync(journal, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  assert.deepEqual(
    lines.map(([, b]) => Number(b)).sort((x, y) => x - y),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  const byJob = new Map<string, number[]>();
  for (const [job, b] of lines) byJob.set(job!, [...(byJob.get(job!) ?? []), Number(b)]);
  assert.deepEqual(
    [...byJob.values()].sort((x, y) => x[0]! - y[0]!),
    [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
      [8, 9],
    ],
    'four shard jobs, each running its contiguous mini-batches in order',
  );
  assert.deepEqual(step(run, 'score').batches, { total: 10, running: 0, succeeded: 10, failed: 0 });
  const listed = (await (await sluice.api(`/api/runs/${run.runId}/steps/score/batches`)).json()) as {
    items: Array<{ batch: number; state: string; shard?: number }>;
  };
  assert.deepEqual(
    listed.items.map((i) => [i.batch, i.shard, i.state]),
    [0, 0, 0, 1, 1, 1, 2, 2, 3, 3].map((shard, batch) => [batch, shard, 'succeeded']),
    'the batch list is in mini-batch units, each naming its shard',
  );
  const scored = await (await sluice.api(`/api/runs/${run.runId}/steps/score/outputs/scores`)).text();
  assert.equal(scored, Array.from({ length: 10 }, (_, i) => `row-f${i}\n`).join(''));

  const counts = (await (await sluice.api(`/api/runs/${run.runId}/steps/summary/outputs/counts`)).json()) as {
    files: Array<{ path: string }>;
  };
  assert.deepEqual(
    counts.files.map((f) => f.path),
    ['batch-0000/output', 'batch-0001/output', 'batch-0002/output'],
  );
  const last = await sluice.api(`/api/runs/${run.runId}/steps/summary/outputs/counts?path=batch-0002/output`);
  assert.equal((await last.text()).trim(), '2');
  // One log per shard; each mini-batch's part is served on its own.
  const log = await sluice.api(`/api/runs/${run.runId}/steps/score/logs?batch=4`);
  assert.equal(log.headers.get('x-sluice-log-source'), `${run.runId}/score/batch-4/1`);
  const text = await log.text();
  assert.match(text, /exited with code 0/);
  assert.doesNotMatch(text, /==> batch/);
});
