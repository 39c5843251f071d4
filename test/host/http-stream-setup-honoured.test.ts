/**
 * Behaviour: an app that calls app.setup({ enableHttpStream: true }) (which on Azure needs the
 * worker's HTTP proxy) is still served: requests reach the handler with body, params and query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHost } from '../../lib/host/index';
import { BASIC_APP } from './support/storage';
import { captureLog } from './support/host';

test('HTTP functions of an app with enableHttpStream answer normally', async () => {
  // No storage needed: the app has only an HTTP function.
  const host = await startHost({
    appDir: join(BASIC_APP, 'http-stream'),
    port: 0,
    embeddedStack: false,
    logger: captureLog().logger,
  });
  try {
    const res = await fetch(`${host.baseUrl}/api/upload/report?q=1`, {
      method: 'POST',
      body: 'x'.repeat(70_000),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: 'report', bytes: 70_000, q: '1' });
  } finally {
    await host.stop();
  }
});
