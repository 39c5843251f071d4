import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publishFixture } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

async function problem(path: string, method: string, body: unknown) {
  const res = await sluice.api(path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  return {
    status: res.status,
    doc: (await res.json()) as { errors?: Array<{ pointer: string; message: string }> },
  };
}

test('an invalid cron, zone or field answers 400 with a pointer per problem, and nothing is created', async () => {
  const bad = await problem('/api/schedules', 'POST', {
    name: 'nightly',
    pipeline: 'tick',
    cron: '0 25 * * *',
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(
    bad.doc.errors!.map((e) => e.pointer),
    ['/cron'],
  );
  assert.match(bad.doc.errors![0]!.message, /0 25 \* \* \*/);

  const several = await problem('/api/schedules', 'POST', {
    name: 'Nightly!',
    pipeline: 'tick',
    cron: '* * * *',
    timeZone: 'Europe/Atlantis',
    overlap: 'sometimes',
  });
  assert.equal(several.status, 400);
  assert.deepEqual(several.doc.errors!.map((e) => e.pointer).sort(), ['/name', '/overlap', '/timeZone']);

  // The pipeline must exist and take the parameters and inputs given.
  const ghost = await problem('/api/schedules', 'POST', {
    name: 'ghostly',
    pipeline: 'ghost-pipeline',
    cron: '0 2 * * *',
  });
  assert.equal(ghost.status, 400);
  assert.deepEqual(
    ghost.doc.errors!.map((e) => e.pointer),
    ['/pipeline'],
  );
  const params = await problem('/api/schedules', 'POST', {
    name: 'typo',
    pipeline: 'tick',
    cron: '0 2 * * *',
    parameters: { holdd: 1 },
    inputs: { nope: 'x@latest' },
  });
  assert.equal(params.status, 400);
  assert.deepEqual(params.doc.errors!.map((e) => e.pointer).sort(), ['/inputs/nope', '/parameters/holdd']);

  assert.equal((await problem('/api/schedules', 'POST', '{"name": ')).status, 400);
  assert.equal((await problem('/api/schedules', 'POST', [1, 2])).status, 400);
  assert.equal((await sluice.api('/api/schedules/nightly')).status, 404);

  // PATCH validates the merged schedule: a good one cannot be broken.
  await sluice.json('/api/schedules', {
    method: 'POST',
    body: { name: 'nightly', pipeline: 'tick', cron: '0 2 * * *' },
  });
  const patch = await problem('/api/schedules/nightly', 'PATCH', { cron: '0 2 * * * * *' });
  assert.equal(patch.status, 400);
  assert.deepEqual(
    patch.doc.errors!.map((e) => e.pointer),
    ['/cron'],
  );
  const badParam = await problem('/api/schedules/nightly', 'PATCH', { parameters: { hold: 'long' } });
  assert.deepEqual(
    badParam.doc.errors!.map((e) => e.pointer),
    ['/parameters/hold'],
  );
  const rename = await problem('/api/schedules/nightly', 'PATCH', { name: 'other' });
  assert.deepEqual(
    rename.doc.errors!.map((e) => e.pointer),
    ['/name'],
  );
  const kept = await sluice.json('/api/schedules/nightly');
  assert.equal(kept.cron, '0 2 * * *');
  assert.equal(kept.nextFireTimes.length, 5);

  // A stale If-Match is refused rather than overwriting someone else's change.
  const stale = await sluice.api('/api/schedules/nightly', {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', 'if-match': '"not-the-etag"' },
    body: JSON.stringify({ enabled: false }),
  });
  assert.equal(stale.status, 412);
  const fresh = await sluice.api('/api/schedules/nightly');
  const etag = fresh.headers.get('etag')!;
  assert.ok(etag);
  const ok = await sluice.api('/api/schedules/nightly', {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', 'if-match': etag },
    body: JSON.stringify({ enabled: false }),
  });
  assert.equal(ok.status, 200);

  const dup = await problem('/api/schedules', 'POST', {
    name: 'nightly',
    pipeline: 'tick',
    cron: '0 3 * * *',
  });
  assert.equal(dup.status, 409);
});
