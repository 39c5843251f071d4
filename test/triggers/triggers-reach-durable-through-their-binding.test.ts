import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { ENDED, eventually, history, publishFixture, runsOf } from '../schedules/support';
import { queue } from './support';

/**
 * On Azure a function reaches the durable engine only through a `durableClient` input binding (its
 * loopback RPC endpoint); there is no public fallback. So here the fallback is pointed at a dead port: a
 * queue message and a schedule must still start runs that complete, through their bindings.
 */
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({
    manualClock: true,
    env: { SLUICE_DURABLE_RPC_URL: 'http://127.0.0.1:9/durabletask/' },
  });
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

async function ended(runId: string): Promise<{ status: string }> {
  return eventually(
    `run ${runId} to end`,
    async () => {
      const r = await sluice.json<{ status: string }>(`/api/runs/${runId}`);
      return ENDED.includes(r.status) && r;
    },
    120_000,
  );
}

test('queue and schedule triggers start runs through their durable client binding', async () => {
  const q = queue(sluice, 'sluice-runs');
  await q.createIfNotExists();
  await q.sendMessage('{"pipeline": "tick", "tags": {"via": "queue"}}');
  const [fromQueue] = await eventually('the queued run to start', async () => {
    const r = await runsOf(sluice, 'tick');
    return r.length > 0 && r;
  });
  assert.equal((await ended(fromQueue.runId)).status, 'Completed');

  const created = await sluice.json<{ nextFireTimes: string[] }>('/api/schedules', {
    method: 'POST',
    body: { name: 'bound', pipeline: 'tick', cron: '*/10 * * * * *' },
  });
  await sluice.advanceClock(10_000);
  const started = await eventually('the occurrence to start', async () => {
    const h = (await history(sluice, 'bound')).filter((e) => e.decision === 'started');
    return h.length > 0 && h;
  });
  assert.equal(started[0]!.occurrence, created.nextFireTimes[0]);
  assert.equal((await ended(started[0]!.runId!)).status, 'Completed');
});
