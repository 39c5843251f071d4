/**
 * Behaviour: stop() takes no new work (503 problem) but lets in-flight invocations finish, then runs
 * appTerminate and closes the server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, eventually, events, startBasicHost, type FixtureEvent } from './support/host';

let storage: TestStorage;
before(async () => {
  storage = await startTestStorage();
});
after(async () => {
  await storage?.stop();
});

const fixtureEvents = (): FixtureEvent[] =>
  (globalThis as unknown as Record<symbol, FixtureEvent[]>)[Symbol.for('sluice.fixture.basic.events')]!;

test('in-flight work finishes, new work is refused, then the host stops', async () => {
  const host = await startBasicHost(storage, captureLog());
  const slow = fetch(`${host.baseUrl}/api/slow?ms=1500`).then(async (r) => ({
    status: r.status,
    text: await r.text(),
  }));
  await eventually(async () => (await events(host, 'slow-start'))[0], 'the slow function to start');

  const stopped = host.stop();
  const refused = await fetch(`${host.baseUrl}/api/hello`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('content-type'), 'application/problem+json');

  assert.deepEqual(await slow, { status: 200, text: 'slept 1500' });
  await stopped;

  const kinds = fixtureEvents().map((e) => e.kind);
  assert.ok(
    kinds.indexOf('slow-end') < kinds.indexOf('appTerminate'),
    'appTerminate runs after in-flight work',
  );
  await assert.rejects(fetch(`${host.baseUrl}/api/hello`), 'the server is closed');
});
