/**
 * Behaviour: an orchestrator that spins in a synchronous loop (`for(;;){}` after an event) runs on an
 * episode worker thread, so the host (`sluice host --app`, a real child process) keeps answering HTTP
 * and other instances keep completing. Past SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS the thread is stopped
 * and the instance is Failed with a message naming the function and the limit. After a SIGKILL
 * mid-spin, the restarted host replays the same code without hanging, and the instance fails the same
 * way.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHostProcess, type SluiceProcess } from '../support/sluice';
import {
  DURABLE_APP,
  durableClient,
  startTestAzurite,
  waitForFinish,
  type TestAzurite,
} from './support/durable-host';

const LIMIT_S = 8;
let storage: TestAzurite;
let proc: SluiceProcess | undefined;
before(async () => {
  storage = await startTestAzurite();
});
after(async () => {
  await proc?.stop();
  await storage?.stop();
});

/** Answers within 2 s, or throws: the host's event loop is free. */
async function answers(proc: SluiceProcess, path: string): Promise<number> {
  const res = await fetch(`${proc.baseUrl}${path}`, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status;
}

/** The episode that consumes 'go' is the one that spins (its events are never committed). */
const letItSpin = (): Promise<void> => new Promise((r) => setTimeout(r, 1500));

test('a spinning orchestrator fails after the limit while the host serves, also after a restart', async () => {
  proc = await startHostProcess(DURABLE_APP, {
    stack: false,
    readyPath: '/durabletask/instances/?top=1',
    env: {
      AzureWebJobsStorage: storage.connectionString,
      SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS: String(LIMIT_S),
    },
  });
  let client = durableClient(proc.baseUrl);

  // 1. Spin, and kill the host mid-spin.
  const first = await client.startNew('spinsAfterEvent');
  await waitForActivityDone(client, first);
  await client.raiseEvent(first, 'go', null);
  await letItSpin();
  assert.equal(await answers(proc, '/durabletask/instances/?top=1'), 200, 'the host answers while it spins');
  const other = await client.startNew('sequence', { input: { n: 5, activity: 'noop' } });
  const otherStatus = await waitForFinish(client, other, 20_000);
  assert.equal(otherStatus.runtimeStatus, 'Completed', 'another instance completes meanwhile');
  assert.equal((await client.getStatus(first)).runtimeStatus, 'Running', 'killed before the limit');
  await proc.kill('SIGKILL');

  // 2. The restarted host replays the spinning code: it still serves, and the instance fails.
  await proc.restart();
  client = durableClient(proc.baseUrl);
  assert.equal(await answers(proc, '/durabletask/instances/?top=1'), 200);
  const afterRestart = await client.startNew('sequence', { input: { n: 3, activity: 'noop' } });
  const s1 = await waitForFinish(client, first, 60_000);
  assert.equal(s1.runtimeStatus, 'Failed');
  const message = String(s1.output);
  assert.match(message, /Orchestrator function 'spinsAfterEvent' failed/);
  assert.match(message, new RegExp(`longer than ${LIMIT_S} s \\(SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS\\)`));
  const s2 = await waitForFinish(client, afterRestart, 20_000);
  assert.equal(s2.runtimeStatus, 'Completed');
  assert.ok(
    Date.parse(s2.lastUpdatedTime) < Date.parse(s1.lastUpdatedTime),
    `the other instance completed while the stuck one was still spinning: ${JSON.stringify([s1, s2])}\n${proc.output()}`,
  );

  // 3. A fresh instance fails the same way without a restart, and the host is still well.
  const second = await client.startNew('spinsAfterEvent');
  await waitForActivityDone(client, second);
  await client.raiseEvent(second, 'go', null);
  const s3 = await waitForFinish(client, second, 60_000);
  assert.equal(s3.runtimeStatus, 'Failed');
  assert.match(String(s3.output), /ran longer than 8 s/);
  assert.equal(await answers(proc, '/durabletask/instances/?top=1'), 200);
  const last = await client.startNew('sequence', { input: { n: 2, activity: 'noop' } });
  assert.equal((await waitForFinish(client, last, 20_000)).runtimeStatus, 'Completed');
  assert.match(proc.output(), /ran longer than 8 s; its worker thread was stopped/);
});

async function waitForActivityDone(client: ReturnType<typeof durableClient>, id: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await client.getStatus(id, { showHistory: true });
    if (((s as any).history ?? []).some((e: any) => e.EventType === 'TaskCompleted')) return;
    if (Date.now() > deadline) throw new Error(`instance ${id} did not run its first activity`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
