/**
 * Behaviour: a function sees query, route params, headers and body the way HttpRequest gives them,
 * and every HttpResponse feature reaches the client: status, headers, cookies and jsonBody. A failing
 * function is a 500 problem document naming the exception (its stack stays in the host log).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningHost } from '../../lib/host/index';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, startBasicHost, type CapturedLog } from './support/host';

let storage: TestStorage;
let host: RunningHost;
let log: CapturedLog;
before(async () => {
  storage = await startTestStorage();
  log = captureLog();
  host = await startBasicHost(storage, log);
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

test('request parts in, response parts out', async () => {
  const res = await fetch(`${host.baseUrl}/api/echo/bob?tag=1&tag=2`, {
    method: 'PUT',
    headers: { 'x-test': 'T', 'content-type': 'text/plain' },
    body: 'payload',
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('x-echo'), 'yes');
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.match(res.headers.get('set-cookie') ?? '', /^session=abc; path=\/; httponly$/);
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(
    { ...body, url: undefined },
    { method: 'PUT', who: 'bob', tags: ['1', '2'], header: 'T', body: 'payload', url: undefined },
  );
  assert.equal(body.url, `${host.baseUrl}/api/echo/bob?tag=1&tag=2`);

  // Each invocation logs one line with name, id, duration and outcome.
  const id = res.headers.get('x-invocation-id')!;
  const lines = log.lines.filter((l) => l.includes(id));
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!,
    /^INFO Executed 'Functions\.echo' \(Succeeded, Id=[0-9a-f-]{36}, Duration=[\d.]+ms/,
  );
});

test('a failing function is a 500 problem naming the exception, logged once with its stack', async () => {
  const res = await fetch(`${host.baseUrl}/api/boom`);
  assert.equal(res.status, 500);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const doc = (await res.json()) as { detail: string; invocationId: string };
  assert.match(doc.detail, /kaboom/);
  assert.doesNotMatch(doc.detail, /\n {4}at /, 'the stack stays in the log');
  const id = doc.invocationId;
  const lines = log.lines.filter((l) => l.includes(id));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^ERROR Executed 'Functions\.boom' \(Failed, [^]*\nException: kaboom/);
});
