import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { ENDED, eventually, publishFixture, runsOf } from '../schedules/support';
import { peekAll, sendJson } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('a message with replyTo gets a summary of the run on that queue when the run ends', async () => {
  const messageId = await sendJson(sluice, 'sluice-runs', { pipeline: 'tick', replyTo: 'tick-replies' });
  // Follow the run first, so a failure names the run's own error rather than a missing reply.
  const [started] = await eventually('the run to start', async () => {
    const r = await runsOf(sluice, 'tick');
    return r.length > 0 && r;
  });
  const ended = await eventually(
    'the run to end',
    async () => {
      const r = await sluice.json(`/api/runs/${started.runId}`);
      return ENDED.includes(r.status) && r;
    },
    120_000,
  );
  assert.equal(ended.status, 'Completed', JSON.stringify(ended));
  const [reply] = await eventually(
    'a reply',
    async () => {
      const r = await peekAll(sluice, 'tick-replies');
      return r.length > 0 && r;
    },
    120_000,
  );
  assert.equal(reply.pipeline, 'tick');
  assert.equal(reply.status, 'Completed');
  assert.ok(reply.outputs.tick.out.hash.startsWith('sha256:'));
  const run = await sluice.json(`/api/runs/${reply.runId}`);
  assert.equal(run.trigger.type, 'queue');
  assert.equal(run.trigger.messageId, messageId);
  assert.equal(run.trigger.replyTo, 'tick-replies');
});
