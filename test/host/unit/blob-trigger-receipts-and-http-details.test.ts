/**
 * Behaviour (pure parts): blob trigger paths parse to a container, a listing prefix and `{name}`
 * parameters; a blob version's receipt runs it until it succeeds or is poisoned, once (model-based);
 * cookies, the query map for old libraries, the body limit setting and the emulator ports line are
 * written as Azure and Core Tools write them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  afterAttempt,
  blobPoisonThreshold,
  isDue,
  parseBlobTriggerPath,
  receiptState,
  type ReceiptState,
} from '../../../lib/host/blob-trigger';
import { queryMap, requestBodyLimit, serializeCookie } from '../../../lib/host/http-io';
import { olderThan } from '../../../lib/host/app-library';
import { stackEndpoints } from '../../../lib/host/index';

test('blob trigger paths: a literal container, a listing prefix and {name} parameters', () => {
  const p = parseBlobTriggerPath('samples-workitems/in/{name}.{ext}', 'f');
  assert.equal(p.container, 'samples-workitems');
  assert.equal(p.prefix, 'in/');
  assert.deepEqual(p.params, ['name', 'ext']);
  assert.deepEqual(
    { ...p.pattern.exec('in/report.final.csv')!.groups },
    { name: 'report', ext: 'final.csv' },
  );
  assert.equal(p.pattern.exec('out/report.csv'), null);
  const all = parseBlobTriggerPath('uploads/{name}', 'f');
  assert.deepEqual({ ...all.pattern.exec('a/b/c.txt')!.groups }, { name: 'a/b/c.txt' });
  assert.equal(parseBlobTriggerPath('uploads', 'f').pattern.test('anything/at/all'), true);
  assert.throws(() => parseBlobTriggerPath('{container}/{name}', 'f'), /must start with a container name/);
  assert.throws(() => parseBlobTriggerPath('c1c/{a}-{a}', 'f'), /names \{a\} twice/);
  assert.equal(blobPoisonThreshold({ extensions: { blobs: { poisonBlobThreshold: 3 } } }, 5), 3);
  assert.equal(blobPoisonThreshold({}, 2), 2);
  assert.throws(
    () => blobPoisonThreshold({ extensions: { blobs: { poisonBlobThreshold: 0 } } }, 5),
    /poisonBlobThreshold/,
  );
});

test('a receipt reads its metadata whatever the case of the keys', () => {
  assert.deepEqual(receiptState({ completed: 'true', dequeuecount: '2' }), {
    completed: true,
    poisoned: false,
    attempts: 2,
  });
  assert.deepEqual(receiptState(undefined), { completed: false, poisoned: false, attempts: 0 });
});

test('model: each blob version runs until it succeeds once or fails maxDequeueCount times, and is poisoned at most once', () => {
  type Step = { version: number; ok: boolean };
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.record({ version: fc.integer({ min: 0, max: 3 }), ok: fc.boolean() }), { maxLength: 40 }),
      (max, steps: Step[]) => {
        const receipts = new Map<number, ReceiptState>();
        const successes = new Map<number, number>();
        const poisons = new Map<number, number>();
        const runs = new Map<number, number>();
        for (const s of steps) {
          // A scan finds the version; it runs only while its receipt says so.
          const r = receipts.get(s.version) ?? receiptState({});
          if (!isDue(r)) continue;
          runs.set(s.version, (runs.get(s.version) ?? 0) + 1);
          const { next, poison } = afterAttempt(r, s.ok, max);
          receipts.set(s.version, next);
          if (s.ok) successes.set(s.version, (successes.get(s.version) ?? 0) + 1);
          if (poison) poisons.set(s.version, (poisons.get(s.version) ?? 0) + 1);
        }
        for (const [v, r] of receipts) {
          assert.ok((successes.get(v) ?? 0) <= 1, 'a version succeeds at most once');
          assert.ok((poisons.get(v) ?? 0) <= 1, 'a version is poisoned at most once');
          assert.ok(!(r.completed && r.poisoned), 'never both');
          assert.ok(r.attempts <= max, 'no more failed attempts than maxDequeueCount');
          assert.equal(runs.get(v), r.attempts + (r.completed ? 1 : 0), 'every run is on the receipt');
          if (r.poisoned) assert.equal(r.attempts, max);
        }
      },
    ),
  );
});

test('cookies are written in the order and case of ASP.NET Core, path defaulting to /', () => {
  assert.equal(
    serializeCookie({
      name: 'a',
      value: 'b',
      httpOnly: true,
      sameSite: 'Strict',
      secure: true,
      path: '/app',
      domain: 'x.test',
      maxAge: 60.7,
      expires: new Date('2026-01-02T03:04:05Z'),
    }),
    'a=b; expires=Fri, 02 Jan 2026 03:04:05 GMT; max-age=60; domain=x.test; path=/app; secure; samesite=strict; httponly',
  );
  assert.equal(serializeCookie({ name: 'n', value: '1' }), 'n=1; path=/');
});

test('old libraries get the query as the Functions host sends it; the body limit and ports as configured', () => {
  assert.deepEqual(queryMap(new URL('http://h/p?a=1&b=2&a=3&c=')), { a: '1,3', b: '2', c: '' });
  assert.equal(olderThan('4.3.0', '4.4.0'), true);
  assert.equal(olderThan('4.3.9-beta.1', '4.4.0'), true);
  assert.equal(olderThan('4.4.0', '4.4.0'), false);
  assert.equal(olderThan('4.16.5', '4.4.0'), false);
  assert.equal(requestBodyLimit({}), 100 * 1024 * 1024);
  assert.equal(requestBodyLimit({ FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '2048' }), 2048);
  assert.throws(
    () => requestBodyLimit({ FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '10MB' }),
    /FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is "10MB"/,
  );
  assert.equal(
    stackEndpoints({
      AzureWebJobsStorage:
        'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=k;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:2/devstoreaccount1;TableEndpoint=http://127.0.0.1:3/devstoreaccount1;',
      COSMOS_ENDPOINT: 'http://127.0.0.1:4',
    }),
    'Azure Storage emulator (Azurite): blob 127.0.0.1:1, queue 127.0.0.1:2, table 127.0.0.1:3; Cosmos DB emulator: http://127.0.0.1:4',
  );
});
