/**
 * Behaviour: a timer function's retry policy (fixedDelay) reruns a failed occurrence after the delay
 * on the process clock, with context.retryContext, up to maxRetryCount.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, setClock } from '../../lib/host/clock';
import { startHost, type RunningHost } from '../../lib/host/index';
import { retryPolicy } from '../../lib/host/retry';
import { BASIC_APP } from './support/storage';
import { captureLog, type CapturedLog } from './support/host';

let host: RunningHost;
let log: CapturedLog;
before(async () => {
  setClock(new ManualClock(Date.parse('2026-03-01T09:59:00Z')));
  log = captureLog();
  // No storage: the schedule monitor is off without AzureWebJobsStorage, which this test does not need.
  host = await startHost({
    appDir: join(BASIC_APP, 'retry'),
    port: 0,
    embeddedStack: false,
    logger: log.logger,
  });
});
after(async () => {
  await host?.stop();
});

const advance = (ms: number) =>
  fetch(`${host.baseUrl}/admin/host/clock/advance?ms=${ms}&wait=true`, { method: 'POST' }).then((r) =>
    r.json(),
  );
const attempts = async () =>
  (await (await fetch(`${host.baseUrl}/api/attempts`)).json()) as Array<{ retryContext: unknown }>;

test('a failing occurrence is retried after the delay until it succeeds', async () => {
  await advance(60_000); // 10:00:00
  assert.deepEqual(await attempts(), [{ retryContext: null }]);
  await advance(29_000);
  assert.equal((await attempts()).length, 1, 'not before the delay');
  await advance(1_000);
  await advance(30_000);
  assert.deepEqual(await attempts(), [
    { retryContext: null },
    { retryContext: { retryCount: 1, maxRetryCount: 2 } },
    { retryContext: { retryCount: 2, maxRetryCount: 2 } },
  ]);
  await advance(120_000);
  assert.equal((await attempts()).length, 3, 'the third attempt succeeded: no more retries');
  assert.equal(
    log.lines.filter((l) => /Executed 'Functions\.flaky' \(Failed, [^]*\nException: attempt/.test(l)).length,
    2,
  );
  assert.ok(log.lines.some((l) => /Executed 'Functions\.flaky' \(Succeeded, .*retry 2\/2/.test(l)));
});

test('retry policies: fixed delay, exponential backoff, none', () => {
  const fixed = retryPolicy({
    retryStrategy: 'fixedDelay',
    maxRetryCount: 3,
    delayInterval: { seconds: 5 },
  })!;
  assert.equal(fixed.delayMs(1), 5000);
  assert.equal(fixed.delayMs(3), 5000);
  const exp = retryPolicy({
    retryStrategy: 'exponentialBackoff',
    maxRetryCount: -1,
    minimumInterval: { seconds: 2 },
    maximumInterval: { seconds: 10 },
  })!;
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => exp.delayMs(n)),
    [2000, 4000, 8000, 10000],
  );
  assert.equal(exp.maxRetryCount, -1);
  assert.equal(retryPolicy(undefined), undefined);
  assert.equal(retryPolicy({ retryStrategy: 'sometimes', maxRetryCount: 1 }), undefined);
});
