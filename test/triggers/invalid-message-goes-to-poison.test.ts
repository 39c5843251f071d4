import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, publishFixture, runsOf } from '../schedules/support';
import { peekAll, peekRaw, queue, sendBase64, sendJson } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('invalid messages go straight to sluice-runs-poison with their problems, visible through the API', async () => {
  // Plain JSON, plain text, broken JSON and base64 JSON: under host.json `messageEncoding: none` every one
  // reaches the handler, which judges it (the host's decoding refuses nothing).
  const typo = await sendJson(sluice, 'sluice-runs', { pipelin: 'tick' });
  const text = await sendJson(sluice, 'sluice-runs', 'please score last night');
  const broken = await sendJson(sluice, 'sluice-runs', '{"pipeline": "tick",');
  const unknownParam = await sendBase64(sluice, 'sluice-runs', {
    pipeline: 'tick',
    parameters: { holdd: 1 },
  });
  const sent = [typo, text, broken, unknownParam];

  const poisoned = await eventually('four poison messages', async () => {
    const p = await peekAll(sluice, 'sluice-runs-poison');
    return p.length >= 4 && p;
  });
  assert.equal(poisoned.length, 4);
  const byId = Object.fromEntries(poisoned.map((p) => [p.messageId, p]));
  assert.ok(byId[typo].problems.some((p: any) => p.pointer === '/pipelin'));
  assert.ok(byId[typo].problems.some((p: any) => p.pointer === '/pipeline'));
  assert.equal(byId[typo].message, JSON.stringify({ pipelin: 'tick' }));
  assert.match(byId[text].problems[0].message, /neither JSON nor base64/);
  assert.equal(byId[text].message, 'please score last night');
  assert.match(byId[broken].problems[0].message, /not valid JSON/);
  assert.equal(byId[broken].message, '{"pipeline": "tick",');
  assert.ok(byId[unknownParam].problems.some((p: any) => p.pointer.startsWith('/parameters')));
  // Sluice writes its poison records as plain JSON, like every queue of this app.
  for (const raw of await peekRaw(sluice, 'sluice-runs-poison')) assert.ok(raw.startsWith('{'), raw);

  const api = await sluice.json('/api/triggers/queue/rejections');
  assert.deepEqual(api.items.map((e: any) => e.messageId).sort(), [...sent].sort());
  for (const e of api.items) {
    assert.equal(e.decision, 'rejected');
    assert.ok(e.problems.length > 0 && e.problems.every((p: any) => typeof p.pointer === 'string'));
  }

  // The host still moves a message itself when the handler fails maxDequeueCount times (a fault retrying
  // cannot fix, e.g. Cosmos down): unchanged, without problems. Put one there as the host does; the poison
  // route tells it apart from Sluice's rejections.
  await queue(sluice, 'sluice-runs-poison').sendMessage('{"pipeline": "tick"}');
  const poison = await eventually('the host-moved message', async () => {
    const p = await sluice.json('/api/triggers/queue/poison');
    return p.items.length >= 5 && p.items;
  });
  const bySluice = poison.filter((p: any) => p.rejectedBy === 'sluice');
  assert.deepEqual(bySluice.map((p: any) => p.messageId).sort(), [...sent].sort());
  const byHost = poison.filter((p: any) => p.rejectedBy === 'host');
  assert.equal(byHost.length, 1);
  assert.equal(byHost[0].message, '{"pipeline": "tick"}');
  assert.match(byHost[0].reason, /maxDequeueCount/);

  // Rejected once each, not retried up to maxDequeueCount; and no run was started.
  for (const id of sent) {
    const lines = sluice
      .output()
      .split('\n')
      .filter((l) => l.includes(`message ${id} rejected`));
    assert.equal(lines.length, 1, `message ${id} was handled once`);
  }
  assert.doesNotMatch(sluice.output(), /failed \d+ times \(maxDequeueCount|not base64/);
  assert.deepEqual(await runsOf(sluice, 'tick'), []);
});
