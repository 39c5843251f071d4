import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getClients } from '../../lib/azure/clients';
import { directArgv } from '../../lib/compute/direct-command';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { logBlobName, LOGS_CONTAINER } from '../../lib/compute/log-stream';
import { materialize } from '../../lib/data/cas';
import { jobSpec, useAgentScenario, waitForResult } from './support';

const scenario = useAgentScenario('direct', { pool: 'direct' });
/** A script that reports what a step sees: working directory, PWD, arguments; writes a metric; exits as asked. */
async function writeProbe(): Promise<string> {
  const probe = join(scenario.tmp, 'probe.js');
  await writeFile(
    probe,
    `const fs = require('fs');
fs.writeFileSync(process.argv[2], JSON.stringify({ cwd: process.cwd(), pwd: process.env.PWD, args: process.argv.slice(3) }));
fs.appendFileSync(process.env.SLUICE_METRICS, JSON.stringify({ name: 'n', value: 1 }) + '\\n');
process.exit(Number(process.argv[4] || 0));
`,
  );
  return probe;
}

async function logOf(runId: string): Promise<string> {
  const blob = getClients()
    .blob.getContainerClient(LOGS_CONTAINER)
    .getBlobClient(logBlobName(runId, 'step', 1));
  return (await blob.downloadToBuffer()).toString('utf8');
}

test('a command without shell syntax runs directly and ends exactly as it does through the shell', async () => {
  const probe = await writeProbe();
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
    const out = join(scenario.tmp, `${spec.jobId}.json`);
    await materialize(r.outputs[0]!.hash, 'file', out);
    const seen = JSON.parse(await readFile(out, 'utf8')) as { cwd: string; pwd: string; args: string[] };
    assert.equal(seen.pwd, seen.cwd, 'PWD is the working directory, as the shell sets it');
    assert.match(seen.cwd, /\/code$/);
    reports.push(seen.args);
  }
  assert.deepEqual(reports[0], reports[1]);

  // Exit codes, and a program that does not exist: the shell's 127 and its message, as before.
  const failing = jobSpec('direct', { command: `node ${probe} ${join(scenario.tmp, 'x.json')} a 3` });
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
