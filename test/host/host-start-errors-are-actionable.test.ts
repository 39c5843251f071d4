/**
 * Behaviour: an app the host cannot run fails startHost with a message that says what is wrong and
 * how to fix it, and leaves nothing behind (environment restored, port released).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHost } from '../../lib/host/index';
import { BASIC_APP, freePort } from './support/storage';
import { captureLog } from './support/host';

const start = (appDir: string, port = 0) =>
  startHost({
    appDir,
    port,
    embeddedStack: false,
    logger: captureLog().logger,
    env: { SLUICE_PROBE: 'set' },
  });

test('two functions on one route and method', async () => {
  await assert.rejects(
    start(join(BASIC_APP, 'clash')),
    /Functions "first" and "second" both serve route "Orders\/\{orderId\}"/,
  );
  assert.equal(process.env.SLUICE_PROBE, undefined, 'the environment is restored');
});

test('a five-field cron schedule', async () => {
  const port = await freePort();
  await assert.rejects(
    start(join(BASIC_APP, 'bad-timer'), port),
    /"nightly": schedule "0 2 \* \* \*" has 5 fields; NCRONTAB needs six/,
  );
  // The port is free again: a second host can listen on it.
  const host = await startHost({
    appDir: join(BASIC_APP, 'http-stream'),
    port,
    embeddedStack: false,
    logger: captureLog().logger,
  });
  await host.stop();
});

test('a main that matches no file, and a broken local.settings.json', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bad-app-'));
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'x', main: 'dist/*.js' }));
    await assert.rejects(start(dir), /no file in .* matches it; build the app first/);
    await writeFile(join(dir, 'local.settings.json'), '{ "Values": { ');
    await assert.rejects(start(dir), /local\.settings\.json is not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an invalid AzureFunctionsWebHost__hostid, and a host.json listener lease period blobs cannot have', async () => {
  await assert.rejects(
    startHost({
      appDir: join(BASIC_APP, 'noop'),
      port: 0,
      embeddedStack: false,
      logger: captureLog().logger,
      env: { AzureFunctionsWebHost__hostid: 'My_App' },
    }),
    /AzureFunctionsWebHost__hostid is "My_App", which is not a valid host ID: .*\(for example "my-app"\)/,
  );
  assert.equal(process.env.AzureFunctionsWebHost__hostid, undefined, 'the environment is restored');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bad-singleton-'));
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'x', main: 'f.js' }));
    await writeFile(join(dir, 'f.js'), '');
    await writeFile(
      join(dir, 'host.json'),
      JSON.stringify({ singleton: { listenerLockPeriod: '00:05:00' } }),
    );
    await assert.rejects(
      start(dir),
      /singleton\.listenerLockPeriod is "00:05:00"; blob leases last 15 to 60 seconds/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
