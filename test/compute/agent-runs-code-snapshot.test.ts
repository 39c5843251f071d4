import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { materialize } from '../../lib/data/cas';
import { packDirectory, storeSnapshot } from '../../lib/snapshots';
import { jobSpec, useAgentScenario, waitForResult } from './support';

const scenario = useAgentScenario('code', { pool: 'code' });

test("a job runs in its code snapshot's directory, and a vanished snapshot fails as missing-input", async () => {
  const src = join(scenario.tmp, 'src');
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
  await materialize(r.outputs[0]!.hash, 'file', join(scenario.tmp, 'greeting'));
  assert.equal(await readFile(join(scenario.tmp, 'greeting'), 'utf8'), 'hello sluice');

  const gone = jobSpec('code', { code: 'snapshot:sha256:' + '1'.repeat(64), command: 'true' });
  await enqueueJob(gone);
  const g = (await waitForResult(gone)).result!;
  assert.equal(g.failure?.code, 'missing-input');
  assert.match(g.failure!.message, /code snapshot/);
});
