import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, stepCommand, tempJournal } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  sluice.api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

test('starting a run checks parameters with pointers, honours Idempotency-Key, and refuses disabled pipelines', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'checked',
    parameters: {
      epochs: { type: 'integer', default: 3 },
      mode: { type: 'enum', values: ['fast', 'full'], default: 'fast' },
    },
    steps: {
      only: {
        command: stepCommand('only', journal, { out: false, extra: '--value ${{parameters.epochs}}' }),
      },
    },
  });

  const bad = await post('/api/pipelines/checked/runs', {
    parameters: { epoch: 5, mode: 'slow', epochs: '5' },
    force: true,
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('content-type'), 'application/problem+json');
  const problem = (await bad.json()) as { errors: Array<{ pointer: string; message: string }> };
  assert.deepEqual(
    problem.errors.map((e) => e.pointer),
    ['/force'],
  );
  assert.match(problem.errors[0]!.message, /did you mean "forceRerun"/);

  const bad2 = await post('/api/pipelines/checked/runs', {
    parameters: { epoch: 5, mode: 'slow', epochs: '5' },
  });
  const p2 = (await bad2.json()) as { errors: Array<{ pointer: string; message: string }> };
  assert.equal(bad2.status, 400);
  assert.deepEqual(p2.errors.map((e) => e.pointer).sort(), [
    '/parameters/epoch',
    '/parameters/epochs',
    '/parameters/mode',
  ]);

  const missing = await post('/api/pipelines/no-such-pipeline/runs', {});
  assert.equal(missing.status, 404);

  const a = await post(
    '/api/pipelines/checked/runs',
    { parameters: { epochs: 4 } },
    { 'Idempotency-Key': 'nightly-2026-11-24' },
  );
  assert.equal(a.status, 202);
  const first = (await a.json()) as { runId: string; statusUrl: string };
  assert.match(first.statusUrl, new RegExp(`/api/runs/${first.runId}$`));
  const b = await post(
    '/api/pipelines/checked/runs',
    { parameters: { epochs: 4 } },
    { 'Idempotency-Key': 'nightly-2026-11-24' },
  );
  assert.equal(((await b.json()) as { runId: string }).runId, first.runId);
  const run = await sluice.json<{
    parameters: Record<string, unknown>;
    trigger: { type: string; idempotencyKey: string };
  }>(`/api/runs/${first.runId}`);
  assert.deepEqual(run.parameters, { epochs: 4, mode: 'fast' });
  assert.deepEqual(run.trigger, { type: 'rest', idempotencyKey: 'nightly-2026-11-24' });

  const v = await post('/api/pipelines/checked/versions/1/runs', {});
  assert.equal(v.status, 202);
  const noVersion = await post('/api/pipelines/checked/versions/9/runs', {});
  assert.equal(noVersion.status, 404);

  await sluice.api('/api/pipelines/checked', { method: 'DELETE' });
  const disabled = await post('/api/pipelines/checked/runs', {});
  assert.equal(disabled.status, 409);

  const list = await sluice.json<{ items: Array<{ runId: string }> }>('/api/runs?pipeline=checked');
  assert.ok(list.items.some((r) => r.runId === first.runId));
  const badQuery = await sluice.api('/api/runs?status=Sideways');
  assert.equal(badQuery.status, 400);
});
