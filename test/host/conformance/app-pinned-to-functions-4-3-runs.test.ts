/**
 * Conformance: an app pinned to @azure/functions 4.3.0 (as the Durable Functions samples' lockfile
 * is) runs: `request.query` is filled (4.0–4.3 read it only from the invocation data), hooks see
 * null errors, an HTTP function's queue output reaches the same host's queue trigger, and an app that
 * enables HTTP streams on 4.3.0 is served.
 * The pinned version is installed into the fixture's own, git-ignored node_modules from the npm
 * registry when it is not there yet.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHost, type RunningHost } from '../../../lib/host/index';
import { startTestStorage, type TestStorage } from '../support/storage';
import { captureLog, eventually } from '../support/host';
import { ensurePinnedDependencies, PINNED_43_APP } from './support';

let storage: TestStorage;
let host: RunningHost;

before(async () => {
  ensurePinnedDependencies(PINNED_43_APP);
  storage = await startTestStorage();
  host = await startHost({
    appDir: PINNED_43_APP,
    port: 0,
    embeddedStack: false,
    logger: captureLog().logger,
    env: { AzureWebJobsStorage: storage.connectionString },
  });
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

test('request.query is filled for an app on @azure/functions 4.3.0', async () => {
  const res = await fetch(`${host.baseUrl}/api/httpTrigger?name=Ada&tag=a&tag=b`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { greeting: string; query: Record<string, string>; library: string };
  assert.ok(
    body.library.startsWith(join(PINNED_43_APP, 'node_modules')),
    'the app ran on its own pinned library',
  );
  assert.equal(body.greeting, 'Hello, Ada!');
  // As the Functions host sends it to these versions: one value a key, repeats joined by commas.
  assert.deepEqual(body.query, { name: 'Ada', tag: 'a,b' });
});

test('hooks and a queue output to the same host work on 4.3.0', async () => {
  const res = await fetch(`${host.baseUrl}/api/enqueue?from=pinned`, { method: 'POST' });
  assert.equal(res.status, 202);
  const seen = await eventually(async () => {
    const s = (await (await fetch(`${host.baseUrl}/api/seen`)).json()) as Array<Record<string, unknown>>;
    return s.some((e) => e.fn === 'dequeue') ? s : undefined;
  }, 'the queue trigger');
  assert.deepEqual(seen.find((e) => e.fn === 'dequeue')!.item, { from: 'pinned' });
  assert.equal(seen.find((e) => e.fn === 'httpTrigger')!.errorIsNull, true);
});

test('an app on 4.3.0 that enables HTTP streams is served (its setup is announced differently)', async () => {
  const streamHost = await startHost({
    appDir: join(PINNED_43_APP, 'stream'),
    port: 0,
    embeddedStack: false,
    logger: captureLog().logger,
  });
  try {
    const res = await fetch(`${streamHost.baseUrl}/api/echo?q=1`, { method: 'POST', body: 'streamed' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { text: 'streamed', q: '1' });
  } finally {
    await streamHost.stop();
  }
});
