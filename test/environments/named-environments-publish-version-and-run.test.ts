import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { sluiceCli, step, waitForRun } from '../runs/helpers';
import { makeWheelhouse, TINY_WHEELS } from './wheelhouse';

const tmp = mkdtempSync(join(os.tmpdir(), 'sluice-envnamed-'));
const wheels = makeWheelhouse(join(tmp, 'wheels'), TINY_WHEELS);
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ env: { SLUICE_ENV_CACHE_DIR: join(tmp, 'envs') } });
});
after(async () => {
  await sluice?.stop();
  rmSync(tmp, { recursive: true, force: true });
});
const cli = (...args: string[]) => sluiceCli(sluice)(...args);
const runIdOf = (out: string): string => /run (r-\w+) started/.exec(out)![1]!;

test('a named environment is published in versions from the CLI, and a step using name@latest runs in it', async () => {
  const spec = join(tmp, 'tiny.yaml');
  writeFileSync(
    spec,
    `python: "3"\nrequirements: ["tinya==1.0.0"]\nfindLinks: ["${wheels}"]\nnoIndex: true\n`,
  );
  assert.equal((await cli('environments', 'publish', 'tiny-env', spec)).stdout.trim(), 'tiny-env@1');
  const same = await cli('environments', 'publish', 'tiny-env', spec);
  assert.equal(same.stdout.trim(), 'tiny-env@1');
  assert.match(same.stderr, /unchanged/);
  writeFileSync(
    spec,
    `python: "3"\nrequirements: ["tinya==2.0.0"]\nfindLinks: ["${wheels}"]\nnoIndex: true\n`,
  );
  assert.equal((await cli('environments', 'publish', 'tiny-env', spec)).stdout.trim(), 'tiny-env@2');
  assert.match((await cli('environments', 'show', 'tiny-env')).stdout, /^2 .*\n1 /m);
  assert.match((await cli('environments', 'show', 'tiny-env@1')).stdout, /tinya==1\.0\.0/);
  assert.match((await cli('environments', 'list')).stdout, /tiny-env\s+@2/);

  const pipe = join(tmp, 'named.yaml');
  writeFileSync(
    pipe,
    [
      'name: env-named',
      'steps:',
      '  latest: { command: python -c "import tinya; print(tinya.__version__)", environment: tiny-env@latest }',
      '  first: { command: python -c "import tinya; print(tinya.__version__)", environment: tiny-env@1 }',
    ].join('\n'),
  );
  await cli('publish', pipe);
  const run = await waitForRun(sluice, runIdOf((await cli('run', 'env-named', '--wait')).stdout));
  assert.equal(run.status, 'Completed');
  const lock = (s: string) =>
    (step(run, s) as unknown as { environment: { lock: string[] } }).environment.lock;
  assert.deepEqual(lock('latest'), ['tinya==2.0.0']);
  assert.deepEqual(lock('first'), ['tinya==1.0.0']);
  assert.match((await cli('runs', 'logs', run.runId, 'first')).stdout, /^.*1\.0\.0$/m);
});

test('a bad environment publish lists every problem with a pointer; an unknown name fails the step clearly', async () => {
  const res = await sluice.api('/api/environments/Bad_Name', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spec: { python: 'three', requirements: ['-e .'] }, extra: 1 }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { errors: Array<{ pointer: string }> };
  assert.deepEqual(body.errors.map((e) => e.pointer).sort(), [
    '/extra',
    '/name',
    '/spec/python',
    '/spec/requirements/0',
  ]);

  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: { name: 'env-missing', steps: { x: { command: 'true', environment: 'nope-env@3' } } },
  });
  const r = await sluice.json<{ runId: string }>('/api/pipelines/env-missing/runs', {
    method: 'POST',
    body: {},
  });
  const run = await waitForRun(sluice, r.runId);
  assert.equal(step(run, 'x').error?.code, 'environment');
  assert.match(step(run, 'x').error!.message, /nope-env@3.*There is no environment "nope-env"/);
});

test('sluice publish reads a conda environment.yml: conda packages are refused at publish, its python and pip parts run', async () => {
  const dir = join(tmp, 'conda');
  mkdirSync(join(dir, 'src'), { recursive: true });
  const yml = join(dir, 'src', 'environment.yml');
  writeFileSync(
    yml,
    'name: x\ndependencies:\n  - python=3.11\n  - numpy\n  - mkl\n  - pip\n  - pip:\n    - tinya==2.0.0\n',
  );
  const pipe = join(dir, 'pipeline.yaml');
  writeFileSync(
    pipe,
    [
      'name: env-conda-file',
      'steps:',
      '  s:',
      '    command: python -c "import tinya, sys; print(tinya.__version__, sys.version_info[:2])"',
      '    code: ./src',
      `    environment: { conda: environment.yml, findLinks: ["${wheels}"], noIndex: true }`,
    ].join('\n'),
  );
  const refused = await cli('publish', pipe).then(
    () => assert.fail('publish should fail'),
    (e: { stderr: string }) => e.stderr,
  );
  assert.match(refused, /steps\/s\/environment\/conda\/dependencies|pipeline\.yaml:\d+/);
  assert.match(refused, /conda packages cannot be installed.*numpy, mkl/);

  writeFileSync(yml, 'name: x\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - tinya==2.0.0\n');
  assert.match((await cli('publish', pipe)).stdout, /env-conda-file@1/);
  const run = await waitForRun(sluice, runIdOf((await cli('run', 'env-conda-file', '--wait')).stdout));
  assert.equal(run.status, 'Completed');
  assert.match((await cli('runs', 'logs', run.runId, 's')).stdout, /2\.0\.0 \(3, 11\)/);
});
