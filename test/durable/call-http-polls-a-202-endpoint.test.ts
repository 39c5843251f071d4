/**
 * Behaviour: `callHttp` makes the request from the host (the extension's built-in HTTP activity) and,
 * with polling on (the default), follows the asynchronous 202 pattern: a timer for Retry-After, then a
 * GET of the Location, until the endpoint answers something else. With polling off the 202 itself is the
 * answer. A host restart between polls loses nothing: the timer and the reserved next request come back
 * from history. The fixture is written as Microsoft's HTTP sample is (test/fixtures/apps/durable-samples).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/sluice';
import {
  SAMPLES_APP,
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  waitForStatus,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
let h: DurableTestHost | undefined;
let port: number;
before(async () => {
  storage = await startTestAzurite({ persistent: true });
  port = await freePort();
  h = await startDurableHost(storage, { appDir: SAMPLES_APP, port });
});
after(async () => {
  await h?.stop();
  await storage?.stop();
});

const httpCalls = (s: any): any[] =>
  (s.history ?? []).filter(
    (e: any) => e.EventType === 'TaskCompleted' && e.FunctionName === 'BuiltIn::HttpActivity',
  );

test('callHttp polls a 202 Location until the job is done', async () => {
  const id = await h!.client.startNew('callHttpPolling', {
    input: { baseUrl: h!.baseUrl, ms: 2500, name: 'first' },
  });
  const s = await waitForFinish(h!.client, id, 30_000);
  assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
  assert.deepEqual(s.output, { statusCode: 200, body: { result: 'done: first' } });
  const timers = (s.history ?? []).filter((e: any) => e.EventType === 'TimerFired');
  assert.ok(timers.length >= 2, `it waited Retry-After between polls (${timers.length} timers)`);
  assert.equal(httpCalls(s).length, timers.length + 1, 'one request, then one GET per timer');
});

test('with polling off, the 202 is the answer', async () => {
  const id = await h!.client.startNew('callHttpNoPolling', { input: { baseUrl: h!.baseUrl } });
  const s = await waitForFinish(h!.client, id);
  assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
  assert.equal(s.output.statusCode, 202);
  assert.match(s.output.location, /^\/api\/jobs\//);
});

test('a restart between polls resumes the polling', async () => {
  const id = await h!.client.startNew('callHttpPolling', {
    input: { baseUrl: h!.baseUrl, ms: 5000, name: 'across a restart' },
  });
  await waitForStatus(h!.client, id, (s) => httpCalls(s).length >= 1, 20_000, 'the first 202');
  await h!.stop();
  h = undefined;
  h = await startDurableHost(storage, { appDir: SAMPLES_APP, port });
  const s = await waitForFinish(h.client, id, 30_000);
  assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
  assert.deepEqual(s.output, { statusCode: 200, body: { result: 'done: across a restart' } });
  assert.ok(httpCalls(s).length >= 2);
});
