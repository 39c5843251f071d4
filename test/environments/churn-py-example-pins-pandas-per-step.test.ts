import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, ROOT, sluiceCli, step, waitForRun } from '../runs/helpers';

// Resolves from the real PyPI (pandas 1.5 and 2.2, scikit-learn): uv's own wheel cache keeps reruns of
// this file fast, while each run builds its environments afresh in a temporary cache.
let sluice: SluiceProcess;
let dir: string;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-churnpy-'));
  fs.cpSync(path.join(ROOT, 'examples', 'churn-py'), path.join(dir, 'example'), { recursive: true });
  sluice = await startSluice({ env: { SLUICE_ENV_CACHE_DIR: path.join(dir, 'envs') } });
});
after(async () => {
  await sluice?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => sluiceCli(sluice)(...args);
const lock = (r: Awaited<ReturnType<typeof getRun>>, s: string): string[] =>
  (step(r, s) as unknown as { environment?: { lock: string[] } }).environment?.lock ?? [];
const runIdOf = (out: string): string => /run (r-\w+) started/.exec(out)![1]!;

test('churn-py runs pandas 1.5 and pandas 2 in one pipeline; a changed pin or an edited script reruns exactly that step and explain names it', async () => {
  const file = path.join(dir, 'example', 'pipeline.yaml');
  assert.match((await cli('publish', file)).stdout, /churn-py@1/);
  const first = await cli('run', 'churn-py', '--wait').catch((e: { stdout?: string; stderr?: string }) => {
    throw new Error(`run failed: ${e.stdout}\n${e.stderr}`);
  });
  const firstRun = await waitForRun(sluice, runIdOf(first.stdout));
  assert.equal(firstRun.status, 'Completed');
  assert.ok(lock(firstRun, 'prepare').includes('pandas==1.5.3'), lock(firstRun, 'prepare').join(' '));
  assert.ok(lock(firstRun, 'train').includes('pandas==2.2.3'));
  assert.ok(lock(firstRun, 'train').includes('scikit-learn==1.5.2'));
  const auc = step(firstRun, 'evaluate').metrics!.find((m) => m.name === 'auc')!.value;
  assert.ok(auc > 0.7, `the azureml-style evaluate script logged auc ${auc}`);
  assert.equal(step(firstRun, 'prepare').metrics!.find((m) => m.name === 'rows')!.value, 4000);

  const again = await waitForRun(sluice, runIdOf((await cli('run', 'churn-py', '--wait')).stdout));
  assert.deepEqual(
    again.steps.map((s) => s.status),
    ['Reused', 'Reused', 'Reused'],
  );

  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace("'pandas==1.5.3'", "'pandas==1.5.2'"));
  assert.match((await cli('publish', file)).stdout, /churn-py@2/);
  const changedId = runIdOf((await cli('run', 'churn-py', '--wait')).stdout);
  const changed = await waitForRun(sluice, changedId);
  assert.equal(step(changed, 'prepare').status, 'Completed');
  assert.ok(lock(changed, 'prepare').includes('pandas==1.5.2'));
  // The same CSV bytes come out, so train and evaluate are reused: only the changed step ran.
  assert.equal(step(changed, 'train').status, 'Reused');
  assert.equal(step(changed, 'evaluate').status, 'Reused');
  const explained = await cli('explain', changedId, 'prepare');
  assert.match(explained.stdout, /environment: pandas 1\.5\.3 → 1\.5\.2/);

  // The edit-run loop: each step includes only its script, so editing evaluate.py and running the file
  // (a draft, nothing published) reruns evaluate alone.
  fs.appendFileSync(path.join(dir, 'example', 'src', 'evaluate.py'), '\n# threshold reviewed\n');
  const draftId = runIdOf((await cli('run', file, '--wait')).stdout);
  const draft = await waitForRun(sluice, draftId);
  assert.deepEqual(
    draft.steps.map((s) => [s.name, s.status]),
    [
      ['prepare', 'Reused'],
      ['train', 'Reused'],
      ['evaluate', 'Completed'],
    ],
  );
  assert.match((await cli('explain', draftId, 'evaluate')).stdout, /code: evaluate\.py changed/);
});
