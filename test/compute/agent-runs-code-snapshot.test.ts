import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { startAgent, type RunningAgent } from '../../lib/compute/agent';
import { enqueueJob } from '../../lib/compute/jobs';
import { materialize } from '../../lib/data/cas';
import { packDirectory, storeSnapshot } from '../../lib/snapshots';
import { jobSpec, waitForResult } from './support';

let stack: TestStack;
let agent: RunningAgent;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-code-'));
  agent = startAgent({ pool: 'code', workDir: join(tmp, 'work'), log: () => {} });
  await agent.ready;
});

after(async () => {
  await agent?.stop();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test("a job runs in its code snapshot's directory, and a vanished snapshot fails as missing-input", async () => {
  const src = join(tmp, 'src');
  await mkdir(join(src, 'lib'), { recursive: true });
  await writeFile(join(src, 'lib', 'greet.js'), 'module.exports = (n) => `hello ${n}`;\n');
  await writeFile(
    join(src, 'main.js'),
    "require('fs').writeFileSync(process.argv[2], require('./lib/greet')(process.env.WHO));\n",
  );
  const snap = await storeSnapshot((await packDirectory(src)).archive);

  const spec = jobSpec('code', {
    code: snap.ref,
    command: `${JSON.stringify(process.execPath)} main.js \${{outputs.greeting}}`,
    env: { WHO: 'sluice' },
    outputs: [{ name: 'greeting', type: 'file' }],
  });
  await enqueueJob(spec);
  const r = (await waitForResult(spec)).result!;
  assert.equal(r.state, 'succeeded', JSON.stringify(r.failure));
  await materialize(r.outputs[0]!.hash, 'file', join(tmp, 'greeting'));
  assert.equal(await readFile(join(tmp, 'greeting'), 'utf8'), 'hello sluice');

  const gone = jobSpec('code', { code: 'snapshot:sha256:' + '1'.repeat(64), command: 'true' });
  await enqueueJob(gone);
  const g = (await waitForResult(gone)).result!;
  assert.equal(g.failure?.code, 'missing-input');
  assert.match(g.failure!.message, /code snapshot/);
});
