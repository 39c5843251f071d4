/**
 * Behaviour: a graceful stop (SIGTERM path) lets running activities finish and commits their results
 * before the engine stops; after the next start every instance completes and no activity ran twice.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  readLines,
  startDurableHost,
  startTestAzurite,
  tempLogFile,
  waitForFinish,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
const log = tempLogFile();
before(async () => {
  storage = await startTestAzurite();
});
after(async () => {
  await storage?.stop();
});

test('stop and start again: every activity ran exactly once', async () => {
  const env = { DURABLE_FIXTURE_LOG: log };
  const first = await startDurableHost(storage, { env });
  const N = 6;
  const ids: string[] = [];
  try {
    for (let i = 0; i < 3; i++) ids.push(await first.client.startNew('steps', { input: { n: N, ms: 80 } }));
    const deadline = Date.now() + 30_000;
    while (readLines(log).filter((l) => l.startsWith('start ')).length < 5) {
      if (Date.now() > deadline) throw new Error('no progress');
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await first.stop();
  }
  const atStop = readLines(log);
  assert.equal(
    atStop.filter((l) => l.startsWith('start ')).length,
    atStop.filter((l) => l.startsWith('done ')).length,
    'activities running at the stop finished before it returned',
  );

  const second = await startDurableHost(storage, { env });
  try {
    for (const id of ids) {
      const s = await waitForFinish(second.client, id);
      assert.equal(s.runtimeStatus, 'Completed');
      assert.deepEqual(
        s.output,
        Array.from({ length: N }, (_, i) => `${id}#${i}`),
      );
    }
  } finally {
    await second.stop();
  }
  const starts = new Map<string, number>();
  for (const l of readLines(log))
    if (l.startsWith('start ')) starts.set(l.slice(6), (starts.get(l.slice(6)) ?? 0) + 1);
  assert.equal(starts.size, ids.length * N);
  for (const [key, n] of starts) assert.equal(n, 1, `${key} ran ${n} times`);
});
