import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, publishFixture, runsOf } from '../schedules/support';
import { peekAll, queue, sendJson } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('invalid messages go straight to sluice-runs-poison with their problems, visible through the API', async () => {
  const typo = await sendJson(sluice, 'sluice-runs', { pipelin: 'tick' });
  const text = await sendJson(sluice, 'sluice-runs', 'please score last night');
  const unknownParam = await sendJson(sluice, 'sluice-runs', { pipeline: 'tick', parameters: { holdd: 1 } });

  const poisoned = await eventually('three poison messages', async () => {
    const p = await peekAll(sluice, 'sluice-runs-poison');
    return p.length >= 3 && p;
  });
  assert.equal(poisoned.length, 3);
  const byId = Object.fromEntries(poisoned.map((p) => [p.messageId, p]));
  assert.ok(byId[typo].problems.some((p: any) => p.pointer === '/pipelin'));
  assert.ok(byId[typo].problems.some((p: any) => p.pointer === '/pipeline'));
  assert.equal(byId[typo].message, JSON.stringify({ pipelin: 'tick' }));
  assert.match(byId[text].problems[0].message, /neither JSON nor base64/);
  assert.ok(byId[unknownParam].problems.some((p: any) => p.pointer.startsWith('/parameters')));

  const api = await sluice.json('/api/triggers/queue/rejections');
  assert.deepEqual(api.items.map((e: any) => e.messageId).sort(), [typo, text, unknownParam].sort());
  for (const e of api.items) {
    assert.equal(e.decision, 'rejected');
    assert.ok(e.problems.length > 0 && e.problems.every((p: any) => typeof p.pointer === 'string'));
  }

  // A message that is not base64 never reaches the handler (host.json messageEncoding base64): the host
  // moves it, and the poison route shows it too, with that reason.
  const raw = await queue(sluice, 'sluice-runs').sendMessage('{"pipeline": "tick"}');
  const poison = await eventually('the host-moved message', async () => {
    const p = await sluice.json('/api/triggers/queue/poison');
    return p.items.length >= 4 && p.items;
  });
  const bySluice = poison.filter((p: any) => p.rejectedBy === 'sluice');
  assert.deepEqual(bySluice.map((p: any) => p.messageId).sort(), [typo, text, unknownParam].sort());
  const byHost = poison.filter((p: any) => p.rejectedBy === 'host');
  assert.equal(byHost.length, 1);
  assert.equal(byHost[0].message, '{"pipeline": "tick"}');
  assert.ok(raw.messageId);

  // Rejected once each, not retried up to maxDequeueCount; and no run was started.
  for (const id of [typo, text, unknownParam]) {
    const lines = sluice
      .output()
      .split('\n')
      .filter((l) => l.includes(`message ${id} rejected`));
    assert.equal(lines.length, 1, `message ${id} was handled once`);
  }
  assert.doesNotMatch(sluice.output(), /failed \d+ times \(maxDequeueCount/);
  assert.deepEqual(await runsOf(sluice, 'tick'), []);
});
