import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, ROOT, sluiceCli, step, waitForRun } from './helpers';

let sluice: SluiceProcess;
let dir: string;

before(async () => {
  sluice = await startSluice();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-churn-'));
  fs.cpSync(path.join(ROOT, 'examples', 'churn'), dir, { recursive: true });
});
after(async () => {
  await sluice?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => sluiceCli(sluice)(...args);

test('the churn example runs from the CLI, reruns as all Reused, and a code edit is explained by file', async () => {
  assert.match((await cli('publish', path.join(dir, 'pipeline.yaml'))).stdout, /churn-train@1/);
  const first = await cli('run', 'churn-train', '--wait');
  assert.match(first.stdout, /evaluate\s+completed .*auc=0\.\d+/);
  assert.match(first.stdout, /run (r-\w+) completed/);
  const firstId = /run (r-\w+) started/.exec(first.stdout)![1]!;
  const evaluate = step(await getRun(sluice, firstId), 'evaluate');
  const auc = evaluate.metrics!.find((m) => m.name === 'auc')!.value;
  assert.ok(auc > 0.7, `AUC ${auc}`);

  const second = await cli('run', 'churn-train', '--wait');
  assert.equal(second.stdout.match(new RegExp(`reused from run ${firstId}`, 'g'))?.length, 3, second.stdout);

  const explained = await cli('explain', /run (r-\w+) started/.exec(second.stdout)![1]!, 'train');
  assert.match(explained.stdout, new RegExp(`reused the outputs of run ${firstId}, step train`));

  // Edit one file of the code directory and publish again: version 2.
  fs.appendFileSync(path.join(dir, 'src', 'train.js'), '\n// a harmless edit\n');
  assert.match((await cli('publish', path.join(dir, 'pipeline.yaml'))).stdout, /churn-train@2/);
  const third = await cli('run', 'churn-train', '--wait');
  const thirdId = /run (r-\w+) started/.exec(third.stdout)![1]!;
  const r = await waitForRun(sluice, thirdId);
  const train = step(r, 'train');
  assert.equal(train.status, 'Completed');
  assert.deepEqual(
    train.cache!.changes!.map((c) => c.message),
    ['code: train.js changed'],
  );
  const why = await cli('explain', thirdId, 'train');
  assert.match(why.stdout, /ran because this changed since run r-\w+:\n {2}- code: train\.js changed/);
});
