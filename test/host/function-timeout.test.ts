/**
 * Behaviour: host.json functionTimeout fails an invocation that runs longer (on the process clock):
 * an HTTP caller gets a 500 problem and the log names the timeout; quick functions are unaffected.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, setClock } from '../../lib/host/clock';
import { functionTimeout, startHost, type RunningHost } from '../../lib/host/index';
import { BASIC_APP } from './support/storage';
import { captureLog, eventually, type CapturedLog } from './support/host';

let host: RunningHost;
let log: CapturedLog;
before(async () => {
  setClock(new ManualClock(Date.parse('2026-03-01T10:00:00Z')));
  log = captureLog();
  host = await startHost({
    appDir: join(BASIC_APP, 'timeout'),
    port: 0,
    embeddedStack: false,
    logger: log.logger,
  });
});
after(async () => {
  await fetch(`${host.baseUrl}/api/wake`, { method: 'POST' }).catch(() => {});
  await host?.stop();
});

test('an invocation past functionTimeout fails', async () => {
  assert.equal(await (await fetch(`${host.baseUrl}/api/quick`)).text(), 'quick');
  const pending = fetch(`${host.baseUrl}/api/sleepy`);
  await eventually(async () => {
    const s = (await (await fetch(`${host.baseUrl}/api/state`)).json()) as { started: number };
    return s.started === 1 ? true : undefined;
  }, 'the slow function to start');
  await fetch(`${host.baseUrl}/admin/host/clock/advance?ms=2000`, { method: 'POST' });
  const res = await pending;
  assert.equal(res.status, 500);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.ok(
    log.lines.some((l) =>
      /Executed 'Functions\.sleepy' \(Failed, [^]*\nException: Timeout value of 00:00:02 exceeded[^]*\nStack: FunctionTimeoutError:/.test(
        l,
      ),
    ),
  );
});

test('functionTimeout values', () => {
  assert.equal(functionTimeout({ functionTimeout: '00:05:00' }), 300_000);
  assert.equal(functionTimeout({ functionTimeout: '-1' }), undefined);
  assert.equal(functionTimeout({}), undefined);
  assert.throws(() => functionTimeout({ functionTimeout: 'five minutes' }), /TimeSpan/);
});
