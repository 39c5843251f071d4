/**
 * Behaviour: SIGKILL the host (`sluice host --app`, a real child process) while bank transfers hold and
 * wait for entity locks and counter signals are queued, start it again, and everything completes:
 * every transfer finishes, no money is created or lost, every acknowledged signal is counted once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as df from 'durable-functions';
import { startHostProcess, type SluiceProcess } from '../support/sluice';
import {
  SAMPLES_APP,
  SAMPLES_HUB,
  durableClient,
  startTestAzurite,
  waitForFinish,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
let proc: SluiceProcess | undefined;
before(async () => {
  storage = await startTestAzurite();
});
after(async () => {
  await proc?.stop();
  await storage?.stop();
});

test('transfers and signals in flight at a SIGKILL complete after the restart, exactly once', async () => {
  proc = await startHostProcess(SAMPLES_APP, {
    stack: false,
    readyPath: '/durabletask/instances/?top=1',
    env: { AzureWebJobsStorage: storage.connectionString },
  });
  let client = durableClient(proc.baseUrl, SAMPLES_HUB);
  const accounts = ['k1', 'k2', 'k3'];
  for (const k of accounts) await client.signalEntity(new df.EntityId('Account', k), 'deposit', 100);
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const from = accounts[i % 3]!;
    const to = accounts[(i + 1 + (i % 2)) % 3]!;
    ids.push(await client.startNew('transferFunds', { input: { from, to, amount: 10 } }));
  }
  const counter = new df.EntityId('Counter', 'kill');
  for (let i = 0; i < 20; i++) await client.signalEntity(counter, 'add', 1);
  // Let some transfers finish, then kill mid-way.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const done = (await Promise.all(ids.map((id) => client.getStatus(id)))).filter(
      (s) => s.runtimeStatus === 'Completed',
    );
    if (done.length >= 2) {
      assert.ok(done.length < ids.length, 'the kill happens while transfers are in flight');
      break;
    }
    if (Date.now() > deadline) throw new Error(`no progress:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await proc.kill('SIGKILL');

  await proc.restart();
  client = durableClient(proc.baseUrl, SAMPLES_HUB);
  for (const id of ids) {
    const s = await waitForFinish(client, id, 60_000);
    assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
  }
  const settle = Date.now() + 20_000;
  let balances: number[] = [];
  let count: number | undefined;
  for (;;) {
    balances = await Promise.all(
      accounts.map(
        async (k) => (await client.readEntityState<number>(new df.EntityId('Account', k))).entityState ?? 0,
      ),
    );
    count = (await client.readEntityState<number>(counter)).entityState;
    if ((balances.reduce((a, b) => a + b, 0) === 300 && count === 20) || Date.now() > settle) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(
    balances.reduce((a, b) => a + b, 0),
    300,
    `money is conserved: ${balances}`,
  );
  assert.ok(
    balances.every((b) => b >= 0),
    `no account went negative: ${balances}`,
  );
  assert.equal(count, 20, 'every acknowledged signal counted once');
});
