import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';

/** A step naming a compute target that does not exist is refused at publish, not at run time. */
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('publishing a step on an unknown compute target answers 400 with a pointer and the configured names', async () => {
  const res = await sluice.api('/api/pipelines', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'wrong-target',
      steps: {
        ok: { command: 'true' },
        train: { command: 'true', compute: 'gpu-clster' },
        score: { args: ['true'], compute: 'nowhere' },
      },
    }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { status: number; errors: Array<{ pointer: string; message: string }> };
  assert.equal(body.status, 400);
  assert.deepEqual(body.errors.map((e) => e.pointer).sort(), [
    '/steps/score/compute',
    '/steps/train/compute',
  ]);
  for (const e of body.errors) assert.match(e.message, /Configured targets: "local"/);
  // Nothing was stored.
  assert.equal((await sluice.api('/api/pipelines/wrong-target')).status, 404);
});

test('a step gives either command or args: both, or neither, is refused with a pointer', async () => {
  const res = await sluice.api('/api/pipelines', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'command-or-args',
      steps: { both: { command: 'true', args: ['true'] }, neither: { outputs: {} } },
    }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { errors: Array<{ pointer: string; message: string }> };
  assert.deepEqual(body.errors.map((e) => e.pointer).sort(), ['/steps/both/args', '/steps/neither/command']);
});
