/**
 * Behaviour: entity state, queued requests and locks survive a host restart like orchestrations do.
 * A bank transfer holds both accounts' locks (waiting for an event inside its critical section) while
 * a client's deposit queues behind the lock; the host stops and starts again on the same storage; the
 * Counter keeps its value, the section resumes and finishes, and only then does the queued deposit run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as df from 'durable-functions';
import {
  SAMPLES_APP,
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  waitForStatus,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
let h: DurableTestHost | undefined;
before(async () => {
  storage = await startTestAzurite({ persistent: true });
  h = await startDurableHost(storage, { appDir: SAMPLES_APP });
});
after(async () => {
  await h?.stop();
  await storage?.stop();
});

async function stateOf<T>(
  host: DurableTestHost,
  id: df.EntityId,
  ok: (v: T | undefined) => boolean,
): Promise<T | undefined> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await host.client.readEntityState<T>(id);
    if (ok(r.entityState)) return r.entityState;
    if (Date.now() > deadline)
      throw new Error(`entity ${id.name}/${id.key}: last state ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

test('state, a held lock and a request queued behind it survive a restart', async () => {
  const counter = new df.EntityId('Counter', 'r');
  const from = new df.EntityId('Account', 'ra');
  const to = new df.EntityId('Account', 'rb');
  await h!.client.signalEntity(counter, 'add', 5);
  await h!.client.signalEntity(from, 'deposit', 50);
  await stateOf<number>(h!, counter, (v) => v === 5);
  await stateOf<number>(h!, from, (v) => v === 50);

  const id = await h!.client.startNew('transferFunds', {
    input: { from: 'ra', to: 'rb', amount: 30, holdFor: 'go' },
  });
  // Locked: the lock's answer is in the history.
  await waitForStatus(h!.client, id, (s) =>
    (s.history ?? []).some((e: any) => e.EventType === 'EventRaised'),
  );
  await h!.client.signalEntity(from, 'deposit', 10);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(
    (await h!.client.readEntityState<number>(from)).entityState,
    50,
    'the deposit waits for the lock',
  );

  await h!.stop();
  h = undefined;
  h = await startDurableHost(storage, { appDir: SAMPLES_APP });
  assert.equal((await h.client.readEntityState<number>(counter)).entityState, 5);
  assert.equal(
    (await h.client.readEntityState<number>(from)).entityState,
    50,
    'still locked after the restart',
  );

  await h.client.raiseEvent(id, 'go', null);
  const s = await waitForFinish(h.client, id);
  assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
  assert.deepEqual(s.output, { moved: true, sourceBalance: 50 });
  // 50 − 30, then the queued deposit of 10.
  assert.equal(await stateOf<number>(h, from, (v) => v === 30), 30);
  assert.equal(await stateOf<number>(h, to, (v) => v === 30), 30);
  await h.client.signalEntity(counter, 'add', 1);
  assert.equal(await stateOf<number>(h, counter, (v) => v === 6), 6);
});
