import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, publishFixture, runsOf } from '../schedules/support';
import { sendBase64, sendJson } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('a queue message starts a run; the same idempotencyKey twice starts one, however each was encoded', async () => {
  // base64 JSON (the Azure SDKs' base64 encode policies, `base64 -w0`) ...
  const first = await sendBase64(sluice, 'sluice-runs', {
    pipeline: 'tick',
    idempotencyKey: 'order-42',
    tags: { order: '42' },
  });
  // ... and the same intent again as plain JSON text: one run.
  const again = await sendJson(sluice, 'sluice-runs', {
    pipeline: 'tick',
    idempotencyKey: 'order-42',
    tags: { order: '42' },
  });
  // A sender whose JSON was base64-encoded twice (it and its SDK each encoding once) is understood too
  // (no key: its own run).
  const doubled = await sendBase64(
    sluice,
    'sluice-runs',
    Buffer.from(JSON.stringify({ pipeline: 'tick' })).toString('base64'),
  );

  await sluice.waitForOutput(/already started run/);
  const runs = await eventually('two queue runs', async () => {
    const r = (await runsOf(sluice, 'tick')).filter((x) => x.trigger.type === 'queue');
    return r.length >= 2 && r;
  });
  assert.equal(runs.length, 2);
  const keyed = runs.find((r) => r.trigger.idempotencyKey === 'order-42');
  assert.ok(keyed, 'the keyed run exists');
  assert.equal(keyed.trigger.queue, 'sluice-runs');
  // Both messages are taken in one batch: whichever handler created the run is named on it.
  assert.ok([first, again].includes(keyed.trigger.messageId), 'the run names one of the two messages');
  assert.equal(keyed.tags.order, '42');
  const other = runs.find((r) => r !== keyed);
  assert.equal(other.trigger.idempotencyKey, `queue:${doubled}`);

  const done = await eventually('the keyed run to complete', async () => {
    const r = await sluice.json(`/api/runs/${keyed.runId}`);
    return r.status === 'Completed' && r;
  });
  assert.equal(done.trigger.type, 'queue');
  assert.deepEqual(await sluice.json('/api/triggers/queue/rejections').then((r) => r.items), []);
});
