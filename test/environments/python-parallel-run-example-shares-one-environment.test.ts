import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, ROOT, sluiceCli, step } from '../runs/helpers';

// pandas from PyPI (uv's wheel cache keeps repeats fast); each run of this file starts with an empty
// environment cache, so the three mini-batch jobs race for one new environment.
let sluice: SluiceProcess;
let dir: string;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-batchpy-'));
  fs.cpSync(path.join(ROOT, 'examples', 'batch-scoring'), path.join(dir, 'ex'), { recursive: true });
  sluice = await startSluice({ env: { SLUICE_ENV_CACHE_DIR: path.join(dir, 'envs') } });
});
after(async () => {
  await sluice?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
const cli = (...args: string[]) => sluiceCli(sluice)(...args);

test('the Python parallelRun example scores every file with pandas, its mini-batch jobs sharing one environment built once', async () => {
  const ex = path.join(dir, 'ex');
  await cli('datasets', 'register', 'churn-model', path.join(ex, 'model.json'));
  await cli('datasets', 'register', 'customers-many', path.join(ex, 'data', 'many'));
  assert.match(
    (await cli('publish', path.join(ex, 'parallel-py.yaml'))).stdout,
    /batch-scoring-parallel-py@1/,
  );
  const out = await cli('run', 'batch-scoring-parallel-py', '--wait');
  const runId = /run (r-\w+) started/.exec(out.stdout)![1]!;
  const run = await getRun(sluice, runId);
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps.map((s) => s.error)));
  assert.deepEqual(step(run, 'score').batches, { total: 3, running: 0, succeeded: 3, failed: 0 });

  const rows = (await (await sluice.api(`/api/runs/${runId}/steps/score/outputs/scores`)).text())
    .trim()
    .split('\n');
  assert.equal(rows.length, 30);
  assert.ok(
    rows.every((r) => /^c-\d+,0\.\d+,[01]$|^c-\d+,1\.0,1$/.test(r)),
    rows.join('\n'),
  );
  const metric = (name: string) => step(run, 'summarize').metrics?.find((m) => m.name === name)?.value;
  assert.equal(metric('scored'), 30);
  assert.equal(metric('flagged'), rows.filter((r) => r.endsWith(',1')).length);

  const logs = await Promise.all(
    [0, 1, 2].map(async (b) => (await cli('runs', 'logs', runId, 'score', '--batch', String(b))).stdout),
  );
  assert.equal(logs.filter((l) => /building environment/.test(l)).length, 1, logs.join('\n----\n'));
  assert.ok(logs.every((l) => /scored 10 rows from 2 files with pandas 2\.2\.3/.test(l)));
});
