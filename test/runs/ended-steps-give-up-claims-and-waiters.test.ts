import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import {
  getRun,
  publish,
  startRun,
  starts,
  step,
  stepCommand,
  tempJournal,
  waitFor,
  waitForRun,
} from './helpers';

/**
 * On the manual clock no durable timer fires, so no orchestration polls and no claim expires: a run
 * waiting on a claim its holder no longer needs would wait forever. Each scenario below hung, or waited
 * for the claim's 6-hour expiry, before steps gave up their claims and waiter registrations on ending.
 */
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true });
});
after(() => sluice?.stop());

const shared = (journal: string, sleep: number) => ({
  command: stepCommand('shared', journal, { sleep }),
  outputs: { o: { type: 'file' } },
});

test('canceling a run whose only step follows another run ends it Canceled, and the host keeps serving', async () => {
  const journal = tempJournal();
  await publish(sluice, { name: 'cancel-follower', steps: { shared: shared(journal, 4000) } });
  const holder = await startRun(sluice, 'cancel-follower');
  await waitFor('the holder to run', async () =>
    step(await getRun(sluice, holder), 'shared').status === 'Running' ? true : undefined,
  );
  const follower = await startRun(sluice, 'cancel-follower');
  await waitFor('the follower to wait for the holder', async () =>
    (step(await getRun(sluice, follower), 'shared') as { waitingFor?: unknown }).waitingFor
      ? true
      : undefined,
  );

  await sluice.json(`/api/runs/${follower}/cancel`, { method: 'POST', body: {} });
  const f = await waitForRun(sluice, follower, 30_000);
  assert.equal(f.status, 'Canceled');
  assert.equal(step(f, 'shared').status, 'Canceled');
  assert.equal((await sluice.api('/api/health')).status, 200, 'the host still serves');

  const h = await waitForRun(sluice, holder, 30_000);
  assert.equal(h.status, 'Completed', 'the holder is unaffected');
  assert.equal(starts(journal, 'shared'), 1);
  // A finished run can be deleted (the hang left it Running for ever: cancel 500, delete 409).
  const del = await sluice.api(`/api/runs/${follower}`, { method: 'DELETE' });
  assert.equal(del.status, 200);
});

test('a step canceled because another step failed gives up its claim at once: the next run computes it', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'fail-beside',
    steps: {
      broken: { command: stepCommand('broken', journal, { sleep: 1500, extra: '--exit 2', out: false }) },
      shared: shared(journal, 60_000),
    },
  });
  const first = await startRun(sluice, 'fail-beside');
  const r1 = await waitForRun(sluice, first, 30_000);
  assert.equal(r1.status, 'Failed');
  assert.equal(step(r1, 'shared').status, 'Canceled', 'the step beside the failure was canceled');

  // Same step, same key, in another pipeline: it must not wait on the canceled step's claim.
  await publish(sluice, { name: 'after-cancel', steps: { shared: shared(journal, 60_000) } });
  const second = await startRun(sluice, 'after-cancel');
  const running = await waitFor(
    'the second run to compute the step itself',
    async () => {
      const s = step(await getRun(sluice, second), 'shared') as { status: string; waitingFor?: unknown };
      assert.equal(s.waitingFor, undefined, 'no waiting on the canceled holder');
      return s.status === 'Running' ? s : undefined;
    },
    30_000,
  );
  assert.equal(running.status, 'Running');
  await sluice.json(`/api/runs/${second}/cancel`, { method: 'POST', body: {} });
  assert.equal((await waitForRun(sluice, second, 30_000)).status, 'Canceled');
});

test('a 409 problem keeps the numeric status and names the run state apart', async () => {
  const journal = tempJournal();
  await publish(sluice, { name: 'problem-409', steps: { slow: shared(journal, 60_000) } });
  const run = await startRun(sluice, 'problem-409');
  const res = await sluice.api(`/api/runs/${run}`, { method: 'DELETE' });
  assert.equal(res.status, 409);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  const body = (await res.json()) as { status: unknown; runStatus?: unknown };
  assert.equal(body.status, 409, 'RFC 7807: status is the HTTP status');
  assert.ok(['Queued', 'Running'].includes(String(body.runStatus)), `runStatus: ${String(body.runStatus)}`);
  await sluice.json(`/api/runs/${run}/cancel`, { method: 'POST', body: {} });
  const ended = await waitForRun(sluice, run, 30_000);
  const again = await sluice.api(`/api/runs/${run}/cancel`, { method: 'POST', body: '{}' });
  assert.equal(again.status, 409);
  const b2 = (await again.json()) as { status: unknown; runStatus?: unknown };
  assert.equal(b2.status, 409);
  assert.equal(b2.runStatus, ended.status);
});
