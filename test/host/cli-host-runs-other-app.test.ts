/**
 * Behaviour: `sluice host --app DIR --port N` runs a separate, unchanged Functions v4 app folder as
 * its own process — its HTTP (under its own route prefix), timer and queue functions, its
 * local.settings.json — and SIGTERM stops it gracefully.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { startTestStorage, freePort, REPO, OTHER_APP, type TestStorage } from './support/storage';
import { eventually } from './support/host';

let storage: TestStorage;
let child: ChildProcess | undefined;
let output = '';
before(async () => {
  storage = await startTestStorage();
});
after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await storage?.stop();
});

test('the CLI serves another app folder: HTTP, timer and queue', async () => {
  const port = await freePort();
  child = spawn(
    process.execPath,
    [join(REPO, 'bin', 'sluice.js'), 'host', '--app', OTHER_APP, '--port', String(port), '--no-stack'],
    {
      cwd: REPO,
      env: {
        ...process.env,
        AzureWebJobsStorage: storage.connectionString,
        OTHER_STORAGE: storage.connectionString,
        SLUICE_MANUAL_CLOCK: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  await eventually(
    async () => (output.includes('Host started') ? true : child!.exitCode !== null ? true : undefined),
    'the host to start',
  );
  assert.equal(child.exitCode, null, `the host exited early:\n${output}`);
  assert.match(output, /ping\s+http\s+\[GET\] http:\/\/127\.0\.0\.1:\d+\/v1\/ping/);
  assert.match(output, /heartbeat\s+timer\s+\*\/10 \* \* \* \* \*/);
  assert.match(output, /jobs\s+queue\s+other-jobs \(OTHER_STORAGE\)/);

  const ping = await fetch(`${base}/v1/ping?who=test`);
  assert.equal(ping.status, 200);
  assert.deepEqual(await ping.json(), {
    pong: true,
    app: 'other-app',
    greeting: 'hello from local.settings.json',
    who: 'test',
  });
  assert.equal((await fetch(`${base}/api/ping`)).status, 404, 'the app chose its own route prefix');

  const adv = await fetch(`${base}/admin/host/clock/advance?ms=10000&wait=true`, { method: 'POST' });
  assert.equal(adv.status, 200);
  const afterTick = (await (await fetch(`${base}/v1/state`)).json()) as {
    heartbeats: number;
    lastHeartbeatPastDue: boolean;
    warmups: unknown[];
  };
  assert.equal(afterTick.heartbeats, 1);
  assert.equal(afterTick.lastHeartbeatPastDue, false);
  assert.deepEqual(afterTick.warmups, [{ isPastDue: false }], 'runOnStartup ran once at start');

  const queue = new QueueClient(storage.connectionString, 'other-jobs');
  await queue.sendMessage('job-1'); // host.json messageEncoding "none": plain text
  const jobs = await eventually(async () => {
    const s = (await (await fetch(`${base}/v1/state`)).json()) as {
      jobs: Array<{ message: string; dequeueCount: number }>;
    };
    return s.jobs.length ? s.jobs : undefined;
  }, 'the queue message to be handled');
  assert.deepEqual(jobs, [{ message: 'job-1', dequeueCount: 1 }]);

  child.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  assert.match(output, /Host stopped\./);
  assert.match(output, /Executed 'Functions\.jobs' \(Succeeded/);
});
