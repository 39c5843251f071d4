/**
 * Conformance: an app written the way Microsoft's samples and templates are — compiled TypeScript
 * under dist/src with `main: "dist/src/{index.js,functions/*.js}"`, `app.setup({ enableHttpStream })`
 * and hooks in index.js, HTTP, queue, blob and timer functions with their input and output
 * bindings — runs under the host as it does on Azure. One host on a manual clock serves every test.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ManualClock, setClock } from '../../../lib/host/clock';
import type { RunningHost } from '../../../lib/host/index';
import { startTestStorage, type TestStorage } from '../support/storage';
import { captureLog, eventually, type CapturedLog } from '../support/host';
import { appEvents, startConformanceHost } from './support';

const LIMIT = 1024 * 1024;
let storage: TestStorage;
let host: RunningHost;
let log: CapturedLog;

before(async () => {
  setClock(new ManualClock(Date.parse('2026-03-01T10:01:30Z')));
  storage = await startTestStorage();
  log = captureLog();
  host = await startConformanceHost(storage, log, {
    env: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(LIMIT) },
  });
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

const api = (path: string, init?: RequestInit): Promise<Response> => fetch(`${host.baseUrl}${path}`, init);

test('the main glob with a folder inside braces loads index.js (setup, hooks) first, then every function', async () => {
  assert.deepEqual([...host.functions.keys()].sort(), [
    'alwaysFails',
    'blobPoison',
    'broken',
    'cookies',
    'enqueue',
    'events',
    'hooked',
    'hopA',
    'hopB',
    'httpTrigger1',
    'onUpload',
    'timerTrigger1',
    'upload',
  ]);
  assert.equal((await appEvents(host, 'appStart')).length, 1);
  // The template's function, with enableHttpStream on.
  assert.equal(await (await api('/api/httpTrigger1?name=Ada')).text(), 'Hello, Ada!');
  assert.equal(await (await api('/api/httpTrigger1', { method: 'POST', body: 'Bob' })).text(), 'Hello, Bob!');
  // The invocation line reads as Core Tools writes it.
  assert.ok(
    log.lines.some((l) =>
      /^INFO Executed 'Functions\.httpTrigger1' \(Succeeded, Id=[0-9a-f-]{36}, Duration=/.test(l),
    ),
  );
  // A preInvocation hook may replace the handler.
  const hooked = await api('/api/hooked');
  assert.equal(hooked.headers.get('x-wrapped-by'), 'preInvocation');
});

test('postInvocation hooks see null for the error of a success and for the result of a failure', async () => {
  await api('/api/hooked');
  assert.equal((await api('/api/broken')).status, 500);
  const seen = await appEvents(host, 'postInvocation');
  const ok = seen.find((e) => e.fn === 'hooked')!;
  assert.equal(ok.pre, 'hooked', 'hookData flows from pre to post');
  assert.equal(ok.errorIsNull, true);
  const failed = seen.find((e) => e.fn === 'broken')!;
  assert.equal(failed.resultIsNull, true);
  assert.equal(failed.errorIsNull, false);
  assert.match(String(failed.error), /^The widget is broken/);
});

test('a failure is logged with its whole message and stack, and the 500 says what failed', async () => {
  const res = await api('/api/broken');
  assert.equal(res.status, 500);
  const doc = (await res.json()) as { detail: string; invocationId: string };
  assert.match(doc.detail, /The widget is broken: .*THE END$/);
  const entry = log.lines.find((l) => l.includes(doc.invocationId))!;
  assert.match(entry, /^ERROR Executed 'Functions\.broken' \(Failed, Id=/);
  assert.match(entry, /\nException: The widget is broken: .*THE END\n/);
  assert.match(entry, /\nStack: Error: The widget is broken[^]*\n {4}at .*http\.js/);
});

test('POST /admin/host/ping answers 200, and a path no function serves is a 404 with an empty body', async () => {
  const ping = await api('/admin/host/ping', { method: 'POST' });
  assert.equal(ping.status, 200);
  assert.equal(await ping.text(), '');
  const missing = await api('/api/no-such-function');
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), '');
  assert.equal((await api('/elsewhere')).status, 404);
});

test('Set-Cookie attributes come in the order and case Azure writes them', async () => {
  const res = await api('/api/cookies');
  assert.deepEqual(res.headers.getSetCookie(), [
    'session=abc; max-age=3600; domain=example.com; path=/; secure; samesite=lax; httponly',
    'plain=1; path=/',
  ]);
});

/** A POST through node:http, so the test decides how the body is sent. */
function post(
  path: string,
  opts: { chunks?: Buffer[]; contentLength?: number },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, host.baseUrl);
    const req = request(url, {
      method: 'POST',
      headers: opts.contentLength !== undefined ? { 'content-length': opts.contentLength } : {},
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    if (!opts.chunks) return req.flushHeaders();
    for (const c of opts.chunks) req.write(c);
    req.end();
  });
}

test('a streamed request body reaches the handler, and FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is the limit', async () => {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const under = await post('/api/upload', { chunks: Array(12).fill(chunk) }); // 768 KiB, chunked
  assert.equal(under.status, 200);
  const got = JSON.parse(under.body) as { bytes: number; chunks: number };
  assert.equal(got.bytes, 12 * 64 * 1024);
  assert.ok(got.chunks > 1, 'the body arrived as a stream of chunks');

  // A declared length over the limit is refused before the function runs.
  const declared = await post('/api/upload', { contentLength: LIMIT + 1 });
  assert.equal(declared.status, 413);
  // A chunked body that grows past it fails the read: 413 too.
  const grown = await post('/api/upload', { chunks: Array(20).fill(chunk) });
  assert.equal(grown.status, 413);
  assert.match(JSON.parse(grown.body).detail, /FUNCTIONS_REQUEST_BODY_SIZE_LIMIT/);
});

test('an HTTP function with a queue output under enableHttpStream answers, and its message crosses two queue hops at once', async () => {
  // Let every queue listener back off to host.json maxPollingInterval (10 minutes): each clock
  // jump ends the current wait, and the next wait doubles.
  for (let i = 0; i < 14; i++) {
    await api('/admin/host/clock/advance?ms=600000', { method: 'POST' });
    await new Promise((r) => setTimeout(r, 60));
  }
  const res = await api('/api/enqueue', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'order-1' }),
  });
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { accepted: 'order-1' });
  // The HTTP function's output wakes hopA's listener, and hopA's output wakes hopB's: without that,
  // each hop would wait out the 10-minute back-off.
  const hop = await eventually(async () => (await appEvents(host, 'hopB'))[0], 'the second hop', 15_000);
  assert.deepEqual(hop.item, { id: 'order-1', hops: ['a'] });
});

test('the timer fires at its occurrence on the manual clock', async () => {
  const before = (await appEvents(host, 'timer')).length;
  await api('/admin/host/clock/advance?ms=300000&wait=true', { method: 'POST' });
  const after = await appEvents(host, 'timer');
  assert.equal(after.length, before + 1);
  assert.equal(after.at(-1)!.isPastDue, false);
});
