import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, ROOT, sluiceCli, step } from './helpers';

let sluice: SluiceProcess;
let dir: string;

before(async () => {
  sluice = await startSluice();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-batch-parallel-'));
  fs.cpSync(path.join(ROOT, 'examples', 'batch-scoring'), dir, { recursive: true });
});
after(async () => {
  await sluice?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => sluiceCli(sluice)(...args);
const runIdOf = (stdout: string) => /run (r-\w+) started/.exec(stdout)![1]!;

/** The same data scored in one process (score.js's default mode): what the mini-batches must add up to. */
async function scoredInOneGo(): Promise<string[]> {
  const out = path.join(dir, 'one-go.csv');
  await promisify(execFile)(process.execPath, [
    path.join(dir, 'src', 'score.js'),
    ...['--data', path.join(dir, 'data', 'many'), '--model', path.join(dir, 'model.json'), '--out', out],
  ]);
  const [header, ...rows] = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(header, 'id,score,churn');
  return rows;
}

test('the parallel batch-scoring example scores 6 files in 3 mini-batches, gathers one header-less CSV, sums it up, and reruns as all Reused', async () => {
  // The README's commands, in order.
  assert.match(
    (await cli('datasets', 'register', 'churn-model', path.join(dir, 'model.json'))).stdout,
    /churn-model@1/,
  );
  const many = await cli('datasets', 'register', 'customers-many', path.join(dir, 'data', 'many'));
  assert.match(many.stdout, /customers-many@1/);
  assert.match(many.stderr, /registered directory sha256:\w+ \(6 file\(s\)/);
  assert.match((await cli('publish', path.join(dir, 'parallel.yaml'))).stdout, /batch-scoring-parallel@1/);

  const first = await cli('run', 'batch-scoring-parallel', '--wait');
  const firstId = runIdOf(first.stdout);
  const run = await getRun(sluice, firstId);
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps));

  // 6 files, 2 per mini-batch: 3 jobs, all succeeded at the first attempt.
  const score = step(run, 'score');
  assert.equal(score.status, 'Completed');
  assert.deepEqual(score.batches, { total: 3, running: 0, succeeded: 3, failed: 0 });
  assert.equal(score.batchErrors?.length ?? 0, 0);

  // The gathered output: every customer once, in file order, no header line anywhere; the same rows as
  // scoring the whole folder in one process.
  const gathered = await sluice.api(`/api/runs/${firstId}/steps/score/outputs/scores`);
  assert.equal(gathered.status, 200);
  const rows = (await gathered.text()).trim().split('\n');
  const expected = await scoredInOneGo();
  assert.equal(expected.length, 30);
  assert.equal(rows.length, 30, 'one row per customer: 6 files × 5');
  assert.ok(!rows.some((r) => r.startsWith('id,')), 'no batch wrote a header');
  assert.deepEqual(rows, expected);
  const flagged = expected.filter((r) => r.endsWith(',1')).length;
  assert.ok(flagged > 0 && flagged < 30, `some but not all customers flagged: ${flagged}`);

  // summarize counted them: metrics on the step, and its JSON summary.
  const summarize = step(run, 'summarize');
  assert.equal(summarize.status, 'Completed');
  const metric = (name: string) => summarize.metrics?.filter((m) => m.name === name).at(-1)?.value;
  assert.equal(metric('scored'), 30);
  assert.equal(metric('flagged'), flagged);
  const summary = await sluice.json(`/api/runs/${firstId}/steps/summarize/outputs/summary`);
  assert.deepEqual(summary, { scored: 30, flagged, flaggedShare: flagged / 30 });

  // Batch 1 (0-based) is the second pair of files: its log names those files and no others.
  const log = (await cli('runs', 'logs', firstId, 'score', '--batch', '1')).stdout;
  assert.match(log, /^customers-03\.csv: 5 row\(s\), \d flagged$/m);
  assert.match(log, /^customers-04\.csv: 5 row\(s\), \d flagged$/m);
  assert.match(log, /^scored 10 row\(s\); \d+ at or above 0\.5$/m);
  for (const other of ['01', '02', '05', '06']) assert.doesNotMatch(log, new RegExp(`customers-${other}`));

  // Nothing changed: the rerun reuses every step, the mini-batches included.
  const second = await cli('run', 'batch-scoring-parallel', '--wait');
  const again = await getRun(sluice, runIdOf(second.stdout));
  assert.equal(again.status, 'Completed');
  assert.deepEqual(
    again.steps.map((s) => [s.name, s.status, s.reusedFrom?.runId]),
    ['score', 'summarize'].map((name) => [name, 'Reused', firstId]),
  );
  assert.deepEqual(step(again, 'score').outputs, score.outputs);
});
