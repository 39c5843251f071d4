/**
 * Behaviour: durable entities as the extension documents them, through apps written like Microsoft's
 * samples (test/fixtures/apps/durable-samples): the Counter entity signalled by clients and called by
 * orchestrations (answers, failures, signals from orchestrations), operations of one entity in arrival
 * order and in batches, an entity signalling another, the bank-transfer critical section (two locks)
 * run many times at once in both directions without deadlock and without losing money, and the
 * entity routes of the management API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as df from 'durable-functions';
import {
  SAMPLES_APP,
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
let h: DurableTestHost;
before(async () => {
  storage = await startTestAzurite();
  h = await startDurableHost(storage, { appDir: SAMPLES_APP });
});
after(async () => {
  await h?.stop();
  await storage?.stop();
});

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const counter = (key: string): df.EntityId => new df.EntityId('Counter', key);

test('clients signal the Counter; readEntityState sees the sum; unknown entities do not exist', async () => {
  await Promise.all(Array.from({ length: 40 }, (_, i) => h.client.signalEntity(counter('c1'), 'add', i + 1)));
  const s = await eventually(
    () => h.client.readEntityState<number>(counter('c1')),
    (r) => r.entityExists && r.entityState === 820,
    'the sum of 40 signals',
  );
  assert.equal(s.entityState, 820);
  const invocations = h.log.lines.filter((l) => l.includes("Executed 'Functions.Counter'")).length;
  assert.ok(invocations < 40, `signals that queued up ran in batches (${invocations} invocations for 40)`);
  assert.equal((await h.client.readEntityState(counter('never-used'))).entityExists, false);
});

test('operations of one entity run in the order they arrived', async () => {
  const journal = new df.EntityId('Journal', 'j1');
  for (let i = 0; i < 30; i++) await h.client.signalEntity(journal, 'append', i);
  const s = await eventually(
    () => h.client.readEntityState<number[]>(journal),
    (r) => (r.entityState?.length ?? 0) === 30,
    '30 entries',
  );
  assert.deepEqual(
    s.entityState,
    Array.from({ length: 30 }, (_, i) => i),
  );
  // An entity signals another.
  await h.client.signalEntity(journal, 'forwardTo', 'from-journal');
  await eventually(
    () => h.client.readEntityState<number>(counter('from-journal')),
    (r) => r.entityState === 30,
    'the forwarded signal',
  );
});

test('an orchestration calls and signals the Counter and sees its failures', async () => {
  const id = await h.client.startNew('counterOrchestration', { input: { key: 'c2', times: 5 } });
  const s = await waitForFinish(h.client, id);
  assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
  // The signal (+100) was sent before the call, so the entity ran it first.
  assert.deepEqual(s.output, { value: 105, refused: true });
  const sent = (s.history ?? []).filter((e: any) => e.EventType === 'EventSent');
  assert.ok(sent.length >= 7, 'each call and signal is an EventSent in the history');
});

test('bank transfers lock both accounts: no deadlock, no money lost', async () => {
  const accounts = ['a', 'b', 'c'];
  for (const k of accounts) await h.client.signalEntity(new df.EntityId('Account', k), 'deposit', 100);
  await eventually(
    () => Promise.all(accounts.map((k) => h.client.readEntityState<number>(new df.EntityId('Account', k)))),
    (rs) => rs.every((r) => r.entityState === 100),
    'the deposits',
  );
  const pairs = [
    ['a', 'b'],
    ['b', 'a'],
    ['b', 'c'],
    ['c', 'a'],
    ['a', 'c'],
    ['c', 'b'],
  ];
  const ids = await Promise.all(
    Array.from({ length: 18 }, (_, i) => {
      const [from, to] = pairs[i % pairs.length]!;
      return h.client.startNew('transferFunds', { input: { from, to, amount: 30 } });
    }),
  );
  const results = [];
  for (const id of ids) {
    const s = await waitForFinish(h.client, id, 60_000);
    assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
    results.push(s.output);
  }
  const balances = await Promise.all(
    accounts.map(
      async (k) => (await h.client.readEntityState<number>(new df.EntityId('Account', k))).entityState!,
    ),
  );
  assert.equal(
    balances.reduce((x, y) => x + y, 0),
    300,
    `money is conserved: ${balances}`,
  );
  assert.ok(
    balances.every((b) => b >= 0),
    `no account went negative: ${balances}`,
  );
  assert.ok(
    results.some((r) => r.moved),
    'transfers moved money',
  );
});

test('the management API lists, reads and signals entities', async () => {
  const base = `${h.baseUrl}/runtime/webhooks/durabletask`;
  const post = await fetch(`${base}/entities/Counter/rest?op=add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '7',
  });
  assert.equal(post.status, 202);
  await eventually(
    async () => (await fetch(`${base}/entities/Counter/rest`)).status,
    (st) => st === 200,
    'the entity to exist',
  );
  assert.equal(await (await fetch(`${base}/entities/Counter/rest`)).json(), 7);
  assert.equal((await fetch(`${base}/entities/Counter/nobody`)).status, 404);
  const noOp = await fetch(`${base}/entities/Counter/rest`, { method: 'POST', body: '1' });
  assert.equal(noOp.status, 400);
  const list = (await (await fetch(`${base}/entities/counter?fetchState=true`)).json()) as any[];
  const rest = list.find((e) => e.entityId.key === 'rest');
  assert.deepEqual(rest?.entityId, { name: 'counter', key: 'rest' });
  assert.equal(rest?.state, 7);
  assert.ok(Date.parse(rest?.lastOperationTime) > 0);
  const all = (await (await fetch(`${base}/entities/`)).json()) as any[];
  assert.ok(
    all.some((e) => e.entityId.name === 'account'),
    'GET entities/ lists every entity',
  );
});
