import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { materialize, putDirectory } from '../../lib/data/cas';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { getClients } from '../../lib/azure/clients';
import { logBlobName, LOGS_CONTAINER } from '../../lib/compute/log-stream';
import { jobSpec, nodeCmd, startAgentProcess, waitFor, waitForResult, type AgentProcess } from './support';

let stack: TestStack;
let agent: AgentProcess;
let server: Server;
let tmp: string;
const events: Array<{ url: string; key: string | undefined; body: string }> = [];

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-agent-e2e-'));
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      events.push({ url: req.url ?? '', key: req.headers['x-functions-key'] as string | undefined, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  agent = startAgentProcess('p1', stack.env, [
    '--work-dir',
    join(tmp, 'work'),
    '--heartbeat-ms',
    '200',
    '--endpoint',
    `http://127.0.0.1:${port}`,
    '--key',
    'test-key',
  ]);
});

after(async () => {
  await agent?.stop();
  server?.close();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('an agent in its own process materialises inputs, streams logs, uploads outputs, parses metrics and reports', async () => {
  const data = join(tmp, 'data');
  await mkdir(join(data, 'sub'), { recursive: true });
  await writeFile(join(data, 'a.txt'), 'hello');
  await writeFile(join(data, 'sub', 'b.txt'), 'world');
  const input = await putDirectory(data);
  const marker = join(tmp, 'go');

  const script = `
    const fs = require('fs'), path = require('path');
    const [inDir, outFile, outDir] = process.argv.slice(1);
    console.log('started');
    const wait = () => fs.existsSync(process.env.MARKER) ? finish() : setTimeout(wait, 50);
    function finish() {
      const a = fs.readFileSync(path.join(inDir, 'a.txt'), 'utf8');
      const b = fs.readFileSync(path.join(inDir, 'sub', 'b.txt'), 'utf8');
      fs.writeFileSync(outFile, (a + ' ' + b).toUpperCase());
      fs.writeFileSync(path.join(process.env.REPORT_DIR, 'summary.json'), JSON.stringify({
        runId: process.env.SLUICE_RUN_ID, step: process.env.SLUICE_STEP,
        sawStorageSecret: process.env.AzureWebJobsStorage !== undefined, cwd: process.cwd() }));
      fs.appendFileSync(process.env.SLUICE_METRICS, JSON.stringify({ name: 'accuracy', value: 0.93 }) + '\\n');
      fs.appendFileSync(process.env.SLUICE_METRICS, 'not json\\n');
      fs.appendFileSync(process.env.SLUICE_METRICS, JSON.stringify({ name: 'loss', value: 0.2, step: 3 }) + '\\n');
      console.error('finished');
    }
    wait();`;
  const spec = jobSpec('p1', {
    stepName: 'train',
    command: `${nodeCmd(script)} \${{inputs.data}} \${{outputs.model}} \${{ outputs.report }}`,
    env: { MARKER: marker, REPORT_DIR: '${{outputs.report}}' },
    inputs: [{ name: 'data', hash: input.hash, type: 'directory' }],
    outputs: [
      { name: 'model', type: 'file' },
      { name: 'report', type: 'directory' },
    ],
    notify: { instanceId: 'inst-1', eventName: 'job:abc' },
  });
  await enqueueJob(spec);

  // The log is readable while the command still runs (it waits for the marker we create only now).
  const logBlob = getClients()
    .blob.getContainerClient(LOGS_CONTAINER)
    .getBlobClient(logBlobName(spec.runId, 'train', 1));
  await waitFor('"started" in the streamed log', async () =>
    (await logBlob.downloadToBuffer()).toString().includes('started'),
  );
  await writeFile(marker, '');

  const row = await waitForResult(spec);
  const result = row.result!;
  assert.equal(result.state, 'succeeded', JSON.stringify(result.failure));
  assert.equal(row.state, 'succeeded');
  assert.equal(result.exitCode, 0);
  assert.deepEqual(result.metrics, [
    { name: 'accuracy', value: 0.93 },
    { name: 'loss', value: 0.2, step: 3 },
  ]);
  const model = result.outputs.find((o) => o.name === 'model')!;
  const report = result.outputs.find((o) => o.name === 'report')!;
  assert.equal(model.type, 'file');
  assert.equal(report.type, 'directory');

  await materialize(model.hash, 'file', join(tmp, 'got-model'));
  assert.equal(await readFile(join(tmp, 'got-model'), 'utf8'), 'HELLO WORLD');
  await materialize(report.hash, 'directory', join(tmp, 'got-report'));
  const summary = JSON.parse(await readFile(join(tmp, 'got-report', 'summary.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(summary.runId, spec.runId);
  assert.equal(summary.step, 'train');
  assert.equal(
    summary.sawStorageSecret,
    false,
    'the agent must not pass its storage credentials to user commands',
  );

  const log = (await logBlob.downloadToBuffer()).toString();
  assert.match(log, /started/);
  assert.match(log, /finished/);
  assert.match(log, /1 metric line\(s\) ignored/);

  // The orchestration heard about it through the durable external-event endpoint, with the key.
  const ev = await waitFor('the raiseEvent POST', async () => events[0]);
  assert.equal(ev.url, '/runtime/webhooks/durabletask/instances/inst-1/raiseEvent/job%3Aabc');
  assert.equal(ev.key, 'test-key');
  assert.equal((JSON.parse(ev.body) as { jobId: string }).jobId, spec.jobId);

  // The working directory is cleaned up (after the report, off the job's critical path).
  const leftOver = (): string[] => (existsSync(join(tmp, 'work')) ? readdirSync(join(tmp, 'work')) : []);
  await waitFor('the working directory removed', async () => leftOver().length === 0).catch(() => undefined);
  assert.deepEqual(leftOver(), []);
});
