/**
 * Behaviour: HTTP routes match like the Functions host — templates with constraints, optional
 * parameters and catch-alls under the route prefix; an unknown path is a 404 with an empty body (as
 * Azure answers) and a known path with the wrong method a 405 problem document with Allow.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunningHost } from '../../lib/host/index';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, startBasicHost } from './support/host';

let storage: TestStorage;
let host: RunningHost;
before(async () => {
  storage = await startTestStorage();
  host = await startBasicHost(storage, captureLog());
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

const get = async (path: string, method = 'GET') => {
  const res = await fetch(host.baseUrl + path, { method });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), allow: res.headers.get('allow'), text };
};

test('constraints choose the route; a value that fits no constraint is a 404', async () => {
  assert.deepEqual(JSON.parse((await get('/api/items/42')).text), { id: '42', route: 'int' });
  assert.deepEqual(JSON.parse((await get('/api/items/abc')).text), { name: 'abc', route: 'alpha' });
  const miss = await get('/api/items/4x');
  assert.equal(miss.status, 404);
  assert.equal(miss.text, '', 'an empty body, as the Functions host answers');
});

test('optional parameters, guid and bool constraints, and catch-alls', async () => {
  const g = '6f9619ff-8b86-d011-b42d-00cf4fc964ff';
  assert.deepEqual(JSON.parse((await get(`/api/things/${g}`)).text), { g, flag: null });
  assert.deepEqual(JSON.parse((await get(`/api/things/${g}/true`)).text), { g, flag: 'true' });
  assert.equal((await get(`/api/things/${g}/maybe`)).status, 404);
  assert.equal((await get('/api/things/not-a-guid')).status, 404);
  assert.deepEqual(JSON.parse((await get('/api/files/a/b%20c.txt')).text), { rest: 'a/b c.txt' });
  assert.deepEqual(JSON.parse((await get('/api/files')).text), { rest: '' });
});

test('the function name is the default route and the prefix is required', async () => {
  assert.equal((await get('/api/hello?name=x')).text, 'Hello, x');
  assert.equal((await get('/api/HELLO?name=y')).text, 'Hello, y');
  assert.equal((await get('/hello')).status, 404);
  assert.equal((await get('/api/nothing-here')).status, 404);
});

test('a known path with another method is a 405 that lists the allowed methods', async () => {
  const r = await get('/api/items/42', 'POST');
  assert.equal(r.status, 405);
  assert.equal(r.allow, 'DELETE, GET');
  assert.equal(r.type, 'application/problem+json');
  assert.equal(JSON.parse(r.text).title, 'Method not allowed');
  assert.equal((await get('/api/items/7', 'DELETE')).status, 204);
});

test('no request path or method makes the host answer 500', async () => {
  const { request } = await import('node:http');
  const raw = (method: string, path: string) =>
    new Promise<number>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: host.port, method, path }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', reject);
      r.end();
    });
  const segment = fc.oneof(
    fc.constantFrom(
      'api',
      'items',
      'files',
      'things',
      'echo',
      'hello',
      '%',
      '%E0%A4%A',
      '..',
      '',
      '{id}',
      '42',
    ),
    fc.string({ maxLength: 8 }).map(encodeURIComponent),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
      fc.array(segment, { maxLength: 5 }),
      async (method, segments) => {
        const status = await raw(method, '/' + segments.join('/'));
        assert.ok(status > 0 && status !== 500, `${method} /${segments.join('/')} answered ${status}`);
      },
    ),
    { numRuns: 150 },
  );
});
