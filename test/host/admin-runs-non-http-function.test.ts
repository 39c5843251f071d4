/**
 * Behaviour: POST /admin/functions/<name> with {"input": …} runs a non-HTTP function once, as Core
 * Tools allows; HTTP functions and unknown names are refused with problem documents.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningHost } from '../../lib/host/index';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, eventually, events, startBasicHost } from './support/host';

let storage: TestStorage;
let host: RunningHost;
before(async () => {
  storage = await startTestStorage();
  host = await startBasicHost(storage, captureLog());
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

const post = (path: string, body?: unknown) =>
  fetch(`${host.baseUrl}${path}`, {
    method: 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
  });

test('a queue function runs once with the given input', async () => {
  assert.equal((await post('/admin/functions/work', { input: '{"order":5}' })).status, 202);
  const seen = await eventually(async () => (await events(host, 'work'))[0], 'the admin run');
  assert.deepEqual(seen.message, { order: 5 });
  assert.equal((await post('/admin/functions/tick')).status, 202);
  const tick = await eventually(async () => (await events(host, 'tick'))[0], 'the timer run');
  assert.equal(tick.isPastDue, false);
});

test('HTTP functions, unknown names and bad bodies are refused', async () => {
  assert.equal((await post('/admin/functions/hello')).status, 409);
  const missing = await post('/admin/functions/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('content-type'), 'application/problem+json');
  const bad = await fetch(`${host.baseUrl}/admin/functions/work`, { method: 'POST', body: '{not json' });
  assert.equal(bad.status, 400);
  assert.equal((await fetch(`${host.baseUrl}/admin/functions/work`)).status, 405);
});
