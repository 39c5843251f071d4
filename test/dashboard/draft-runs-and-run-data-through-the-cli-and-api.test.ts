import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpError, startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, ROOT, sluiceCli, step, waitForRun } from '../runs/helpers';

/**
 * The edit-run loop and a run's data from a terminal, against a running Sluice with the churn example:
 * `sluice run FILE.yaml` (a draft: nothing published) reuses what a published run computed and the
 * reverse; `sluice runs outputs|metrics|compare`; and the new read APIs' problems and paging.
 */

let sluice: SluiceProcess;
let dir: string;
let cli: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;
const runIdOf = (stdout: string) => /run (r-\w+) started/.exec(stdout)![1]!;

before(async () => {
  sluice = await startSluice();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-drafts-'));
  fs.cpSync(path.join(ROOT, 'examples', 'churn'), path.join(dir, 'churn'), { recursive: true });
  cli = sluiceCli(sluice);
});
after(async () => {
  await sluice?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const file = () => path.join(dir, 'churn', 'pipeline.yaml');
const params = ['--param', 'rows=300', '--param', 'epochs=20'];
let published = '';
let edited = '';

test('a draft run of an unchanged file reuses every step of the published run; an edited step alone reruns; publishing the edit reuses the draft', async () => {
  assert.match((await cli('publish', file())).stdout, /churn-train@1/);
  published = runIdOf((await cli('run', 'churn-train', ...params, '--wait')).stdout);

  const same = await cli('run', file(), ...params, '--wait');
  assert.match(same.stdout, /started \(churn-train draft 1\)/);
  const draft1 = await getRun(sluice, runIdOf(same.stdout));
  assert.equal((draft1 as unknown as { version: number }).version, -1);
  assert.deepEqual(
    draft1.steps.map((s) => [s.name, s.status, s.reusedFrom?.runId]),
    ['prepare', 'train', 'evaluate'].map((n) => [n, 'Reused', published]),
  );
  // Nothing was published: the pipeline still has one version.
  assert.equal((await sluice.json('/api/pipelines/churn-train')).latestVersion, 1);

  // Edit one step (its environment is part of its cache key): only that step runs again.
  const yaml = fs.readFileSync(file(), 'utf8');
  fs.writeFileSync(
    file(),
    yaml.replace(
      'command: node evaluate.js',
      'env: { EVAL_NOTE: "threshold review" }\n    command: node evaluate.js',
    ),
  );
  const changed = await cli('run', file(), ...params, '--wait');
  assert.match(changed.stdout, /started \(churn-train draft 2\)/);
  const draft2 = await getRun(sluice, runIdOf(changed.stdout));
  edited = draft2.runId;
  assert.equal(draft2.status, 'Completed');
  assert.equal(step(draft2, 'prepare').status, 'Reused');
  assert.equal(step(draft2, 'train').status, 'Reused');
  assert.equal(step(draft2, 'evaluate').status, 'Completed');
  assert.match(JSON.stringify(step(draft2, 'evaluate').cache), /EVAL_NOTE/);
  // A rerun of a draft's run reruns the same draft.
  const rerun = await sluice.json<{ runId: string }>(`/api/runs/${edited}/rerun`, {
    method: 'POST',
    body: {},
  });
  const rerunDoc = await waitForRun(sluice, rerun.runId);
  assert.equal((rerunDoc as unknown as { version: number }).version, -2);
  assert.ok(rerunDoc.steps.every((s) => s.status === 'Reused'));
  // The same file again is the same draft.
  const again = await cli('run', file(), ...params);
  assert.match(again.stdout, /draft 2\)/);
  await waitForRun(sluice, runIdOf(again.stdout));

  // The reverse: publishing the edit and running it reuses the draft's evaluate.
  assert.match((await cli('publish', file())).stdout, /churn-train@2/);
  const v2 = await getRun(sluice, runIdOf((await cli('run', 'churn-train', ...params, '--wait')).stdout));
  assert.equal(step(v2, 'evaluate').status, 'Reused');
  assert.equal(step(v2, 'evaluate').reusedFrom?.runId, edited);

  // A file with a problem is reported at its line, and nothing runs.
  fs.writeFileSync(
    path.join(dir, 'churn', 'bad.yaml'),
    yaml.replace("model: '${{steps.train.outputs.model}}'", "model: '${{steps.train.outputs.modle}}'"),
  );
  await assert.rejects(cli('run', path.join(dir, 'churn', 'bad.yaml')), (e: { stderr: string }) => {
    assert.match(e.stderr, /bad\.yaml:\d+:\d+: .*modle/);
    return true;
  });
});

test('sluice runs outputs downloads a file and a directory with every sha256 verified; metrics and compare print what differs', async () => {
  const out = path.join(dir, 'out');
  const model = await cli('runs', 'outputs', published, 'train', 'model', '-o', out);
  assert.match(model.stdout, /train\/model → .*model \(\d+ B, sha256 verified\)/);
  const run = await getRun(sluice, published);
  const bytes = fs.readFileSync(path.join(out, 'model'));
  assert.equal(
    'sha256:' + createHash('sha256').update(bytes).digest('hex'),
    step(run, 'train').outputs!.model!.hash,
  );
  const data = await cli('runs', 'outputs', published, 'prepare', '-o', out);
  assert.match(data.stdout, /prepare\/data → .*data\/ \(3 files, .* every sha256 verified\)/);
  assert.ok(fs.existsSync(path.join(out, 'data', 'train.csv')));
  await assert.rejects(
    cli('runs', 'outputs', published, 'train', 'weights'),
    /no output "weights"; its outputs: model/,
  );

  const metrics = (await cli('runs', 'metrics', published)).stdout;
  assert.match(metrics, /^train\s+train_loss\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+$/m);
  assert.match(metrics, /^evaluate\s+auc\s/m);

  const cmp = (await cli('runs', 'compare', published, edited)).stdout;
  assert.match(cmp, /^\* evaluate\s+Completed/m);
  assert.match(cmp, /^ {2}prepare\s+/m, 'prepare has one cache key in both runs');
  assert.match(cmp, /churn-train v1\s+churn-train draft 2/);
});

test('the read APIs answer bad input with RFC 7807 problems and page one metric across runs with continuation tokens', async () => {
  const problem = async (p: string) => {
    const e = await sluice.json(p).then(
      () => assert.fail(`${p} should fail`),
      (x: HttpError) => x,
    );
    assert.equal(e.status, 400, p);
    return (e.body as { errors: Array<{ pointer: string }> }).errors.map((x) => x.pointer);
  };
  assert.deepEqual(await problem('/api/runs/compare?ids=' + published), ['/query/ids']);
  assert.deepEqual(await problem('/api/runs/compare?ids=r-nope,r-nada'), ['/query/ids/0', '/query/ids/1']);
  assert.deepEqual(await problem('/api/pipelines/churn-train/metrics?limit=0'), [
    '/query/metric',
    '/query/limit',
  ]);
  assert.deepEqual(await problem('/api/pipelines/churn-train/metrics?metric=auc&continuationToken=garbage'), [
    '/continuationToken',
  ]);
  const bad = await sluice.api('/api/runs/drafts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      definition: { name: 'x', steps: { a: { command: 'true', bogus: 1 } } },
      paramz: {},
    }),
  });
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);
  const pointers = ((await bad.json()) as { errors: Array<{ pointer: string }> }).errors.map(
    (e) => e.pointer,
  );
  assert.ok(
    pointers.includes('/paramz') && pointers.some((p) => p.startsWith('/definition/steps/a')),
    pointers.join(),
  );

  // Every run of churn-train, one per page.
  const all = await sluice.json<{ items: unknown[] }>('/api/runs?pipeline=churn-train&limit=50');
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page = await sluice.json<{
      items: Array<{ runId: string; values: Array<{ step: string; last: number }> }>;
      continuationToken?: string;
    }>(
      `/api/pipelines/churn-train/metrics?metric=auc&step=evaluate&limit=1${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
    );
    assert.ok(page.items.length <= 1);
    for (const it of page.items) {
      seen.push(it.runId);
      assert.equal(it.values[0]?.step, 'evaluate');
    }
    token = page.continuationToken;
  } while (token);
  assert.equal(new Set(seen).size, all.items.length);
  const series = await sluice.json<{ series: Array<{ step: string; name: string; points: unknown[] }> }>(
    `/api/runs/${published}/metrics`,
  );
  assert.ok(series.series.find((s) => s.step === 'train' && s.name === 'train_loss')!.points.length > 1);
});
