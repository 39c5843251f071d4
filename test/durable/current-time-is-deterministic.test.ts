/**
 * Behaviour: context.df.currentUtcDateTime is the same value on every replay of the same point, so a
 * value computed before an activity equals the value replayed after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForFinish, useDurableHost } from './support/durable-host';

const h = useDurableHost();

test('times captured before activities survive replays unchanged', async () => {
  const id = await h.client.startNew('clock');
  const done = await waitForFinish(h.client, id);
  assert.equal(done.runtimeStatus, 'Completed');
  const o = done.output;
  assert.equal(o.seen, o.first, 'the activity saw the time the first episode computed');
  assert.equal(o.seenSecond, o.second);
  assert.ok(Date.parse(o.second) >= Date.parse(o.first));
  assert.ok(Date.parse(o.again) >= Date.parse(o.second));
});
