/**
 * Behaviour: with SLUICE_MASTER_KEY set, Sluice's own callers of the durable management API keep working:
 * the runs API (durable client binding), the queue trigger (a client built from SLUICE_DURABLE_RPC_URL,
 * no binding) and the local agent's completion events; the API itself refuses callers without a key.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, publishFixture } from '../schedules/support';
import { sendJson } from '../triggers/support';

const KEY = 'master-key-for-sluice-runs';
const withKey = { 'x-functions-key': KEY };
let sluice: SluiceProcess;

before(async () => {
  sluice = await startSluice({ env: { SLUICE_MASTER_KEY: KEY } });
  await publishFixture(sluice, 'tick', KEY);
});
after(() => sluice?.stop());

test('runs started over REST and by queue message complete while the management API needs the key', async () => {
  const refused = await sluice.api('/runtime/webhooks/durabletask/instances/');
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('content-type'), 'application/problem+json');
  await refused.body?.cancel();

  const started = await sluice.json<{ runId: string }>('/api/pipelines/tick/runs', {
    method: 'POST',
    headers: { ...withKey, 'content-type': 'application/json' },
    body: { parameters: { hold: 0 } },
  });
  await sendJson(sluice, 'sluice-runs', { pipeline: 'tick', idempotencyKey: 'keyed-queue-run' });

  const runs = await eventually('both runs to complete', async () => {
    const r = await sluice.json<{ items: any[] }>('/api/runs?pipeline=tick&limit=10', { headers: withKey });
    const done = r.items.filter((x) => x.status === 'Completed');
    return done.length >= 2 && r.items;
  });
  assert.ok(runs.some((r) => r.runId === started.runId && r.trigger.type === 'rest'));
  assert.ok(runs.some((r) => r.trigger.type === 'queue' && r.status === 'Completed'));

  const instance = await sluice.api(`/runtime/webhooks/durabletask/instances/${started.runId}`, {
    headers: withKey,
  });
  assert.equal(instance.status, 200);
  assert.equal(((await instance.json()) as { runtimeStatus: string }).runtimeStatus, 'Completed');
  // The local agent raised its completion events with the key (a refusal would be logged).
  assert.doesNotMatch(sluice.output(), /notify .*HTTP 401/);
  assert.ok(!sluice.output().includes(KEY), 'the key never reaches the log');
});
