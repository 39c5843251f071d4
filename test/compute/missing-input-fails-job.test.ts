import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { startAgent, type RunningAgent } from '../../lib/compute/agent';
import { enqueueJob } from '../../lib/compute/jobs';
import { jobSpec, waitForResult } from './support';

let stack: TestStack;
let agent: RunningAgent;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-missing-'));
  agent = startAgent({ pool: 'missing', workDir: join(tmp, 'work'), concurrency: 3, log: () => {} });
  await agent.ready;
});

after(async () => {
  await agent?.stop();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

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
