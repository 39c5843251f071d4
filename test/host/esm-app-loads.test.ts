/**
 * Behaviour: an ES module app ("type": "module", `import { app } from '@azure/functions'`) registers
 * through the same core shim and is served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHost } from '../../lib/host/index';
import { BASIC_APP } from './support/storage';
import { captureLog } from './support/host';

test('an ESM app is loaded and served', async () => {
  const host = await startHost({
    appDir: join(BASIC_APP, 'esm'),
    port: 0,
    embeddedStack: false,
    logger: captureLog().logger,
  });
  try {
    assert.deepEqual([...host.functions.keys()], ['esmHello']);
    const res = await fetch(`${host.baseUrl}/api/esm/world`);
    assert.deepEqual(await res.json(), { hello: 'world', module: 'esm' });
  } finally {
    await host.stop();
  }
});
