/**
 * Behaviour: SIGKILL the host (a real child process: `sluice host --app`) in the middle of several
 * orchestrations, start it again, and every instance completes. Activities whose completion was
 * committed before the kill never run again (counted in a file outside the host); activities that were
 * in flight may run again (at-least-once).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHostProcess, type SluiceProcess } from '../support/sluice';
import {
  DURABLE_APP,
  durableClient,
  readLines,
  startTestAzurite,
  tempLogFile,
  waitForFinish,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
let proc: SluiceProcess | undefined;
const log = tempLogFile();
before(async () => {
  storage = await startTestAzurite();
});
after(async () => {
  await proc?.stop();
  await storage?.stop();
});

test('instances resume after SIGKILL without re-running completed activities', async () => {
  proc = await startHostProcess(DURABLE_APP, {
    stack: false,
    // Ready once the durable engine answers (it loads unfinished instances before it serves).
    readyPath: '/durabletask/instances/?top=1',
    env: { AzureWebJobsStorage: storage.connectionString, DURABLE_FIXTURE_LOG: log },
  });
  let client = durableClient(proc.baseUrl);
  const N = 8;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await client.startNew('steps', { input: { n: N, ms: 60 } }));

  // Let roughly a third of the work happen.
  const deadline = Date.now() + 30_000;
  while (readLines(log).filter((l) => l.startsWith('done ')).length < 10) {
    if (Date.now() > deadline) throw new Error(`no progress:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // What the host has committed so far (status answers come from committed state only).
  const committed = new Set<string>();
  for (const id of ids) {
    const s = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
    for (const e of (s as any).history ?? []) if (e.EventType === 'TaskCompleted') committed.add(e.Result);
  }
  await proc.kill('SIGKILL');
  const beforeRestart = readLines(log).length;
  assert.ok(committed.size > 0, 'some activities were committed before the kill');
  assert.ok(committed.size < ids.length * N, 'the kill happened mid-run');

  await proc.restart();
  client = durableClient(proc.baseUrl);
  for (const id of ids) {
    const s = await waitForFinish(client, id, 60_000);
    assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
    assert.deepEqual(
      s.output,
      Array.from({ length: N }, (_, i) => `${id}#${i}`),
    );
  }
  const lines = readLines(log);
  assert.ok(lines.length > beforeRestart, 'work continued after the restart');
  const starts = new Map<string, number>();
  for (const l of lines)
    if (l.startsWith('start ')) starts.set(l.slice(6), (starts.get(l.slice(6)) ?? 0) + 1);
  for (const key of committed)
    assert.equal(starts.get(key), 1, `${key} was committed before the kill but ran again`);
  for (const id of ids) for (let i = 0; i < N; i++) assert.ok((starts.get(`${id}#${i}`) ?? 0) >= 1);
});
