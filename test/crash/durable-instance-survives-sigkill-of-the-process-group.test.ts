/**
 * Behaviour (issue 9, finding 4): start a 12-activity orchestration on `sluice host` with its embedded
 * stack, SIGKILL the whole process group (host, Azurite and the Cosmos server at once) about 1.6 s after
 * the start was acknowledged with 202, and start it again on the same data folder. The instance exists,
 * completes, and no activity whose completion was committed before the kill runs again. Before Azurite's
 * metadata was journaled, the instance was gone (404) in 3 of 4 tries.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHostProcess, type SluiceProcess } from '../support/sluice';
import {
  DURABLE_APP,
  durableClient,
  readLines,
  tempLogFile,
  waitForFinish,
} from '../durable/support/durable-host';

let proc: SluiceProcess | undefined;
after(() => proc?.stop());

const N = 12;

test('an orchestration acknowledged 1.6 s before a SIGKILL of the process group exists after the restart and reruns no committed activity', async () => {
  const log = tempLogFile();
  proc = await startHostProcess(DURABLE_APP, {
    processGroup: true,
    readyPath: '/durabletask/instances/?top=1',
    env: { DURABLE_FIXTURE_LOG: log },
  });
  for (let round = 1; round <= 2; round++) {
    let client = durableClient(proc.baseUrl);
    const id = await client.startNew('steps', { input: { n: N, ms: 150 } });
    const acked = Date.now();
    // What the host committed just before the kill (status answers come from committed state only).
    await sleep(1450);
    const committed = new Set<string>();
    const s = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
    for (const e of (s as any).history ?? []) if (e.EventType === 'TaskCompleted') committed.add(e.Result);
    await sleep(Math.max(0, acked + 1600 - Date.now()));
    await proc.killGroup();

    await proc.restart();
    client = durableClient(proc.baseUrl);
    const status = await client.getStatus(id);
    assert.ok(status, `round ${round}: instance ${id} is gone after the restart`);
    const done = await waitForFinish(client, id, 60_000);
    assert.equal(done.runtimeStatus, 'Completed', JSON.stringify(done));
    assert.deepEqual(
      done.output,
      Array.from({ length: N }, (_, i) => `${id}#${i}`),
    );
    const starts = new Map<string, number>();
    for (const l of readLines(log))
      if (l.startsWith('start ')) starts.set(l.slice(6), (starts.get(l.slice(6)) ?? 0) + 1);
    for (const key of committed)
      assert.equal(starts.get(key), 1, `round ${round}: ${key} was committed before the kill but ran again`);
  }
});
