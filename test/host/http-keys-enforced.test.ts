/**
 * Behaviour: authLevel function/admin need a key whenever one is configured (x-functions-key header
 * or code query); SLUICE_FUNCTION_KEY opens function-level routes, SLUICE_MASTER_KEY opens both.
 * Without keys they are served and the host warns once. Key values never reach the log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, startBasicHost } from './support/host';

let storage: TestStorage;
before(async () => {
  storage = await startTestStorage();
});
after(async () => {
  await storage?.stop();
});

const FUNCTION_KEY = 'fk-0123456789abcdef';
const MASTER_KEY = 'mk-fedcba9876543210';

test('configured keys are enforced per auth level', async () => {
  const log = captureLog();
  const host = await startBasicHost(storage, log, {
    env: { SLUICE_FUNCTION_KEY: FUNCTION_KEY, SLUICE_MASTER_KEY: MASTER_KEY },
  });
  try {
    const status = async (path: string, headers: Record<string, string> = {}) =>
      (await fetch(host.baseUrl + path, { headers })).status;
    const noKey = await fetch(`${host.baseUrl}/api/secret`);
    assert.equal(noKey.status, 401);
    assert.equal(noKey.headers.get('content-type'), 'application/problem+json');
    assert.equal(await status('/api/secret', { 'x-functions-key': 'wrong' }), 401);
    assert.equal(await status('/api/secret', { 'x-functions-key': FUNCTION_KEY }), 200);
    assert.equal(await status(`/api/secret?code=${FUNCTION_KEY}`), 200);
    assert.equal(await status('/api/secret', { 'x-functions-key': MASTER_KEY }), 200);
    assert.equal(await status('/api/adminOnly', { 'x-functions-key': FUNCTION_KEY }), 401);
    assert.equal(await status('/api/adminOnly', { 'x-functions-key': MASTER_KEY }), 200);
    assert.equal(await status('/api/hello'), 200, 'anonymous functions need no key');
    assert.equal(await status('/admin/host/status'), 401, 'the admin API needs the master key');
    assert.equal(await status('/admin/host/status', { 'x-functions-key': MASTER_KEY }), 200);
  } finally {
    await host.stop();
  }
  assert.ok(!log.lines.some((l) => l.includes(FUNCTION_KEY) || l.includes(MASTER_KEY)), 'keys never logged');
  assert.ok(!log.lines.some((l) => /no key is configured/.test(l)));
});

test('without keys, function and admin routes are served and the host warns once', async () => {
  const log = captureLog();
  const host = await startBasicHost(storage, log);
  try {
    assert.equal((await fetch(`${host.baseUrl}/api/secret`)).status, 200);
    assert.equal((await fetch(`${host.baseUrl}/api/adminOnly`)).status, 200);
    assert.equal((await fetch(`${host.baseUrl}/api/secret`)).status, 200);
  } finally {
    await host.stop();
  }
  assert.equal(log.lines.filter((l) => /no key is configured/.test(l)).length, 1);
});
