import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, waitForRun } from '../runs/helpers';
import { makeWheelhouse, TINY_WHEELS } from './wheelhouse';

// Hermetic: the packages come from a wheelhouse the test makes; no index is contacted.
const tmp = mkdtempSync(join(os.tmpdir(), 'sluice-envpipe-'));
const wheels = makeWheelhouse(join(tmp, 'wheels'), [...TINY_WHEELS, 'tinya:1.5.0']);
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ env: { SLUICE_ENV_CACHE_DIR: join(tmp, 'envs') } });
});
after(async () => {
  await sluice?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const env = (pin: string) => ({ python: '3', requirements: [pin], findLinks: [wheels], noIndex: true });
const printVersion =
  'python -c "import sys, tinya; open(sys.argv[1], \'w\').write(tinya.__version__)" ${{outputs.v}}';

function pipeline(bPin: string) {
  return {
    name: 'env-pins',
    environment: env('tinya==1.0.0'),
    steps: {
      a: { command: printVersion, outputs: { v: { type: 'file' } } },
      b: { command: printVersion, environment: env(bPin), outputs: { v: { type: 'file' } } },
    },
  };
}

test('two steps pinning different versions of a package each run in their own, and a changed pin reruns exactly that step, naming the change', async () => {
  await publish(sluice, pipeline('tinya==2.0.0'));
  const first = await waitForRun(sluice, await startRun(sluice, 'env-pins'), 120_000);
  assert.equal(first.status, 'Completed', JSON.stringify(first.steps.map((s) => s.error)));
  const lockOf = (r: typeof first, s: string) =>
    (step(r, s) as unknown as { environment?: { lock: string[] } }).environment?.lock;
  assert.deepEqual(lockOf(first, 'a'), ['tinya==1.0.0'], 'the pipeline default environment');
  assert.deepEqual(lockOf(first, 'b'), ['tinya==2.0.0'], "the step's own environment");
  const blob = async (r: typeof first, s: string) =>
    (await sluice.api(`/api/artifacts/${step(r, s).outputs!.v!.hash}`)).text();
  assert.equal(await blob(first, 'a'), '1.0.0');
  assert.equal(await blob(first, 'b'), '2.0.0');

  const same = await waitForRun(sluice, await startRun(sluice, 'env-pins'));
  assert.deepEqual(
    same.steps.map((s) => s.status),
    ['Reused', 'Reused'],
  );

  await publish(sluice, pipeline('tinya==1.5.0'));
  const changed = await waitForRun(sluice, await startRun(sluice, 'env-pins'), 120_000);
  assert.equal(changed.status, 'Completed');
  assert.equal(step(changed, 'a').status, 'Reused');
  assert.equal(step(changed, 'b').status, 'Completed');
  assert.deepEqual(
    step(changed, 'b').cache!.changes!.map((c) => c.message),
    ['environment: tinya 2.0.0 → 1.5.0'],
  );
  assert.equal(await blob(changed, 'b'), '1.5.0');
});

test('a package that does not resolve fails the step once with code environment (no retries), naming the package', async () => {
  await publish(sluice, {
    name: 'env-broken',
    steps: { x: { command: 'python -c "print(1)"', retries: 2, environment: env('tinya==9.9.9') } },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'env-broken'), 120_000);
  assert.equal(run.status, 'Failed');
  const x = step(run, 'x');
  assert.equal(x.error?.code, 'environment');
  assert.equal(x.attempts, 1, 'not retried: the same spec fails the same way');
  assert.match(x.error!.message, /tinya/);
});

test("a step whose Python version its pool's agents do not have fails at dispatch, saying what they have", async () => {
  await publish(sluice, {
    name: 'env-python2',
    steps: { x: { command: 'python -c "print(1)"', environment: { python: '2.7', requirements: ['six'] } } },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'env-python2'));
  assert.equal(run.status, 'Failed');
  const x = step(run, 'x');
  assert.equal(x.error?.code, 'environment');
  assert.match(
    x.error!.message,
    /No agent of pool "local" can build this environment: its agent: it has Python [0-9.]+/,
  );
  assert.match(x.error!.message, /"2\.7"/);
});

test('a conda spec with conda-only packages is refused at publish, naming them', async () => {
  const res = await sluice.api('/api/pipelines', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'env-conda',
      steps: {
        x: {
          command: 'true',
          environment: { conda: { dependencies: ['python=3.11', 'mkl', 'pip', { pip: ['tinya'] }] } },
        },
      },
    }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { errors: Array<{ pointer: string; message: string }> };
  const e = body.errors.find((p) => p.pointer.startsWith('/steps/x/environment/conda'));
  assert.ok(e, JSON.stringify(body));
  assert.match(e.message, /conda packages cannot be installed.*mkl/);
});
