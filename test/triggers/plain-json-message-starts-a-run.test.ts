import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { ENDED, eventually, publishFixture, runsOf } from '../schedules/support';
import { peekAll, queue } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('a plain JSON message (no base64) starts a run', async () => {
  // Exactly what `az storage message put --content '{"pipeline": "tick"}'` or an SDK without an encode
  // policy puts on the queue: the JSON text itself.
  const q = queue(sluice, 'sluice-runs');
  await q.createIfNotExists();
  const { messageId } = await q.sendMessage('{"pipeline": "tick", "tags": {"sentAs": "plain"}}');

  const [run] = await eventually('the run to start', async () => {
    const r = await runsOf(sluice, 'tick');
    return r.length > 0 && r;
  });
  assert.equal(run.trigger.type, 'queue');
  assert.equal(run.trigger.queue, 'sluice-runs');
  assert.equal(run.trigger.messageId, messageId);
  assert.equal(run.trigger.idempotencyKey, `queue:${messageId}`);
  assert.equal(run.tags.sentAs, 'plain');

  const ended = await eventually(
    'the run to end',
    async () => {
      const r = await sluice.json(`/api/runs/${run.runId}`);
      return ENDED.includes(r.status) && r;
    },
    120_000,
  );
  assert.equal(ended.status, 'Completed', JSON.stringify(ended));
  // Nothing was refused on the way: not by Sluice, not by the host's decoding.
  assert.deepEqual(await peekAll(sluice, 'sluice-runs-poison'), []);
  assert.deepEqual((await sluice.json('/api/triggers/queue/rejections')).items, []);
  assert.equal((await runsOf(sluice, 'tick')).length, 1);
});
