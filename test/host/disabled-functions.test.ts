/**
 * Behaviour: the app setting AzureWebJobs.<name>.Disabled=true turns a function off as on Azure:
 * its route is a 404, its timer or queue is not listened to, and the table says so.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDisabled } from '../../lib/host/function-table';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, startBasicHost } from './support/host';

let storage: TestStorage;
before(async () => {
  storage = await startTestStorage();
});
after(async () => {
  await storage?.stop();
});

test('disabled functions are not served', async () => {
  const log = captureLog();
  const host = await startBasicHost(storage, log, {
    env: { 'AzureWebJobs.hello.Disabled': 'true', AzureWebJobs_tick_Disabled: '1' },
  });
  try {
    assert.equal((await fetch(`${host.baseUrl}/api/hello`)).status, 404);
    assert.equal((await fetch(`${host.baseUrl}/api/items/1`)).status, 200, 'other functions still run');
    const table = log.lines.find((l) => l.includes('Functions ('))!;
    assert.match(table, /hello\s+http\s+\(disabled\)/);
    assert.match(table, /tick\s+timer\s+\(disabled\)/);
    assert.doesNotMatch(table, /work\s+queue\s+\(disabled\)/);
  } finally {
    await host.stop();
  }
});

test('the setting accepts both spellings and only true or 1', () => {
  assert.equal(isDisabled('my-fn', { 'AzureWebJobs.my-fn.Disabled': 'TRUE' }), true);
  assert.equal(isDisabled('my-fn', { AzureWebJobs_my_fn_Disabled: '1' }), true);
  assert.equal(isDisabled('my-fn', { 'AzureWebJobs.my-fn.Disabled': 'false' }), false);
  assert.equal(isDisabled('my-fn', {}), false);
});
