import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SluiceProcess } from '../support/sluice';
import { startPipelinesApi } from './support';

let api: SluiceProcess;
before(async () => {
  api = await startPipelinesApi();
});
after(() => api?.stop());

const publish = (i: number) =>
  api.json('/api/pipelines', {
    method: 'POST',
    body: { name: 'life', description: 'lifecycle', steps: { a: { command: `echo ${i}` } } },
  });

test('a pipeline can be pinned, disabled with DELETE (keeping everything), and re-enabled with PATCH', async () => {
  for (let i = 1; i <= 3; i++) assert.equal((await publish(i)).version, i);

  let p = await api.json('/api/pipelines/life');
  assert.equal(p.defaultVersion, 3);
  assert.equal(p.pinnedVersion, null);
  assert.deepEqual(
    p.versions.map((v: { version: number }) => v.version),
    [3, 2, 1],
  );

  p = await api.json('/api/pipelines/life', { method: 'PATCH', body: { defaultVersion: 2 } });
  assert.equal(p.defaultVersion, 2);
  assert.equal((await api.json('/api/pipelines/life/versions/default')).version, 2);
  assert.equal((await api.json('/api/pipelines/life/versions/latest')).version, 3);
  assert.equal((await publish(4)).version, 4);
  assert.equal((await api.json('/api/pipelines/life')).defaultVersion, 2, 'a pinned default stays pinned');

  const bad = await api.api('/api/pipelines/life', {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ defaultVersion: 9, enabeld: false }),
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('content-type'), 'application/problem+json');
  const problem = (await bad.json()) as any;
  assert.match(JSON.stringify(problem.errors), /enabeld/);

  const tooHigh = await api.api('/api/pipelines/life', {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ defaultVersion: 9 }),
  });
  assert.equal(tooHigh.status, 400);
  assert.match(((await tooHigh.json()) as any).errors[0].message, /no version 9; its versions are 1 to 4/);

  const deleted = await api.json('/api/pipelines/life', { method: 'DELETE' });
  assert.equal(deleted.enabled, false);
  assert.match(deleted.message, /versions, its runs and their data are kept/);
  const after = await api.json('/api/pipelines/life');
  assert.equal(after.enabled, false);
  assert.equal(after.latestVersion, 4, 'versions are kept');
  assert.equal((await api.json('/api/pipelines/life/versions/1')).definition.steps.a.command, 'echo 1');

  const republished = await publish(5);
  assert.equal(republished.enabled, false);
  assert.match(republished.note, /disabled/);

  p = await api.json('/api/pipelines/life', {
    method: 'PATCH',
    body: { enabled: true, defaultVersion: 'latest' },
  });
  assert.deepEqual(
    { enabled: p.enabled, defaultVersion: p.defaultVersion },
    { enabled: true, defaultVersion: 5 },
  );

  const missing = await api.api('/api/pipelines/nope-nope');
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as any).detail, /no pipeline "nope-nope"/);
  assert.equal((await api.api('/api/pipelines/life/versions/0')).status, 400);
  assert.equal((await api.api('/api/pipelines/life/versions/77')).status, 404);
});
