import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { getClients } from '../../lib/azure/clients';
import { startAgent, type RunningAgent } from '../../lib/compute/agent';
import { directArgv } from '../../lib/compute/direct-command';
import { enqueueJob } from '../../lib/compute/jobs';
import { logBlobName, LOGS_CONTAINER } from '../../lib/compute/log-stream';
import { materialize } from '../../lib/data/cas';
import { jobSpec, waitForResult } from './support';

let stack: TestStack;
let agent: RunningAgent;
let tmp: string;
let probe: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-direct-'));
  probe = join(tmp, 'probe.js');
  // Reports what a step sees: working directory, PWD, arguments; writes a metric; exits as asked.
  await writeFile(
    probe,
    `const fs = require('fs');
fs.writeFileSync(process.argv[2], JSON.stringify({ cwd: process.cwd(), pwd: process.env.PWD, args: process.argv.slice(3) }));
fs.appendFileSync(process.env.SLUICE_METRICS, JSON.stringify({ name: 'n', value: 1 }) + '\\n');
process.exit(Number(process.argv[4] || 0));
`,
  );
  agent = startAgent({ pool: 'direct', workDir: join(tmp, 'work'), log: () => {} });
  await agent.ready;
});

after(async () => {
  await agent?.stop();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function logOf(runId: string): Promise<string> {
  const blob = getClients()
    .blob.getContainerClient(LOGS_CONTAINER)
    .getBlobClient(logBlobName(runId, 'step', 1));
  return (await blob.downloadToBuffer()).toString('utf8');
}

test('a command without shell syntax runs directly and ends exactly as it does through the shell', async () => {
  const plain = `node ${probe} \${{outputs.report}} a,b 0`;
  const quoted = `node "${probe}" \${{outputs.report}} "a,b" 0`;
  // The two commands take the two paths.
  assert.deepEqual(directArgv(plain.replace('${{outputs.report}}', '/x')), ['node', probe, '/x', 'a,b', '0']);
  assert.equal(directArgv(quoted), undefined);

  const reports = [];
  for (const command of [plain, quoted]) {
    const spec = jobSpec('direct', { command, outputs: [{ name: 'report', type: 'file' }] });
    await enqueueJob(spec);
    const r = (await waitForResult(spec)).result!;
    assert.equal(r.state, 'succeeded', JSON.stringify(r));
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.metrics, [{ name: 'n', value: 1 }]);
    const out = join(tmp, `${spec.jobId}.json`);
    await materialize(r.outputs[0]!.hash, 'file', out);
    const seen = JSON.parse(await readFile(out, 'utf8')) as { cwd: string; pwd: string; args: string[] };
    assert.equal(seen.pwd, seen.cwd, 'PWD is the working directory, as the shell sets it');
    assert.match(seen.cwd, /\/code$/);
    reports.push(seen.args);
  }
  assert.deepEqual(reports[0], reports[1]);

  // Exit codes, and a program that does not exist: the shell's 127 and its message, as before.
  const failing = jobSpec('direct', { command: `node ${probe} ${join(tmp, 'x.json')} a 3` });
  const missing = jobSpec('direct', { command: 'sluice-no-such-program-xyz --flag' });
  const no = jobSpec('direct', { command: 'false' });
  for (const s of [failing, missing, no]) await enqueueJob(s);
  const f = (await waitForResult(failing)).result!;
  assert.equal(f.failure?.code, 'exit-code');
  assert.equal(f.exitCode, 3);
  const m = (await waitForResult(missing)).result!;
  assert.equal(m.failure?.code, 'exit-code');
  assert.equal(m.exitCode, 127);
  assert.match(await logOf(missing.runId), /sluice-no-such-program-xyz: not found/);
  assert.equal((await waitForResult(no)).result!.exitCode, 1);
});
