/**
 * Behaviour: local.settings.json `Host.CORS` is applied as Core Tools applies it: allowed origins get
 * Access-Control-Allow-Origin, preflights are answered, other origins get no CORS headers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHost, type RunningHost } from '../../lib/host/index';
import { readLocalSettings } from '../../lib/host/app-files';
import { startTestStorage, OTHER_APP, type TestStorage } from './support/storage';
import { captureLog } from './support/host';

let storage: TestStorage;
let host: RunningHost;
before(async () => {
  storage = await startTestStorage();
  host = await startHost({
    appDir: OTHER_APP,
    port: 0,
    embeddedStack: false,
    logger: captureLog().logger,
    env: { AzureWebJobsStorage: storage.connectionString, OTHER_STORAGE: storage.connectionString },
  });
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

test('allowed origins get CORS headers and preflights', async () => {
  const ok = await fetch(`${host.baseUrl}/v1/ping`, { headers: { origin: 'http://dashboard.example' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'http://dashboard.example');

  const pre = await fetch(`${host.baseUrl}/v1/ping`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://other.example',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'x-functions-key',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'x-functions-key');

  const other = await fetch(`${host.baseUrl}/v1/ping`, { headers: { origin: 'http://evil.example' } });
  assert.equal(other.status, 200);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('Host.LocalHttpPort and CORS settings are read; bad ports are clear errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-settings-'));
  try {
    await writeFile(
      join(dir, 'local.settings.json'),
      JSON.stringify({ Values: { A: 1 }, Host: { LocalHttpPort: 7181, CORS: '*', CORSCredentials: true } }),
    );
    assert.deepEqual(await readLocalSettings(dir), {
      values: { A: '1' },
      localHttpPort: 7181,
      cors: ['*'],
      corsCredentials: true,
    });
    await writeFile(join(dir, 'local.settings.json'), JSON.stringify({ Host: { LocalHttpPort: 'x' } }));
    await assert.rejects(readLocalSettings(dir), /Host\.LocalHttpPort must be a port number/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
