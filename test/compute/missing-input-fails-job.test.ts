import { test } from 'node:test';
import assert from 'node:assert/strict';

import { enqueueJob } from '../../lib/compute/jobs-service';
import { jobSpec, useAgentScenario, waitForResult } from './support';

useAgentScenario('missing', { pool: 'missing', concurrency: 3 });

test('an unknown placeholder, or an input whose artifact is gone, fails the job with missing-input', async () => {
  const unknown = jobSpec('missing', {
    command: 'cat ${{inputs.nope}} > ${{outputs.out}}',
    outputs: [{ name: 'out', type: 'file' }],
  });
  const gone = jobSpec('missing', {
    command: 'cat ${{inputs.data}}',
    inputs: [{ name: 'data', type: 'file', hash: 'sha256:' + 'ab'.repeat(32) }],
  });
  const unknownEnv = jobSpec('missing', { command: 'true', env: { X: '${{parameters.epochs}}' } });
  await Promise.all([enqueueJob(unknown), enqueueJob(gone), enqueueJob(unknownEnv)]);

  const a = (await waitForResult(unknown)).result!;
  assert.equal(a.state, 'failed');
  assert.equal(a.failure!.code, 'missing-input');
  assert.match(a.failure!.message, /\$\{\{inputs\.nope\}\}/);
  assert.match(a.failure!.message, /outputs\.out/, 'the message lists what exists');

  const b = (await waitForResult(gone)).result!;
  assert.equal(b.failure!.code, 'missing-input');
  assert.match(b.failure!.message, /Input "data"/);

  const c = (await waitForResult(unknownEnv)).result!;
  assert.equal(c.failure!.code, 'missing-input');
  assert.match(c.failure!.message, /parameters\.epochs/);
});

test('a command that exits 0 without writing a declared output fails and says which', async () => {
  const spec = jobSpec('missing', { command: 'echo nothing', outputs: [{ name: 'model', type: 'file' }] });
  await enqueueJob(spec);
  const r = (await waitForResult(spec)).result!;
  assert.equal(r.state, 'failed');
  assert.equal(r.failure!.code, 'missing-output');
  assert.equal(r.exitCode, 0);
  assert.match(r.failure!.message, /output "model" \(file\) was not written/);
});
