import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, publishFixture } from '../schedules/support';

const KEY = 'a-function-key-for-the-crm';
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ env: { SLUICE_FUNCTION_KEY: KEY } });
  await publishFixture(sluice, 'tick', KEY);
});
after(() => sluice?.stop());

/** What the README's curl does. */
const start = (headers: Record<string, string>) =>
  sluice.api('/api/pipelines/tick/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ parameters: { hold: 0 }, tags: { caller: 'crm' } }),
  });

test('another system starts a run over REST with a function key, once per Idempotency-Key', async () => {
  const anonymous = await start({ 'Idempotency-Key': 'crm-order-7' });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('content-type'), 'application/problem+json');

  const first = await start({ 'x-functions-key': KEY, 'Idempotency-Key': 'crm-order-7' });
  assert.equal(first.status, 202);
  const a = (await first.json()) as any;
  assert.equal(a.created, true);
  const retry = await start({ 'x-functions-key': KEY, 'Idempotency-Key': 'crm-order-7' });
  assert.equal(retry.status, 200);
  const b = (await retry.json()) as any;
  assert.equal(b.runId, a.runId);
  assert.equal(b.created, false);

  const run = await eventually('the run to complete', async () => {
    const r = await sluice.json(new URL(a.statusUrl).pathname, { headers: { 'x-functions-key': KEY } });
    return r.status === 'Completed' && r;
  });
  assert.deepEqual(run.trigger, { type: 'rest', idempotencyKey: 'crm-order-7' });
  assert.equal(run.tags.caller, 'crm');
});
