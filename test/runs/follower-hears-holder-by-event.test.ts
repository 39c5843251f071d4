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
 * On the manual clock no durable timer fires unless the test moves time, so the orchestrations never poll:
 * a run following another run's single-flight claim can only learn how it ended from the holder's event.
 * The shared step sleeps 4 s so that the second run starts while the first still computes it.
 */
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true });
});
after(() => sluice?.stop());

test('a run waiting for another run computing the same step is told by an event, for success and for failure', async () => {
  const journal = tempJournal();
  const pipeline = (name: string, extra: string) => ({
    name,
    steps: {
      shared: {
        command: stepCommand('shared', journal, { sleep: 4000, extra }),
        outputs: { o: { type: 'file' } },
      },
    },
  });

  /** Starts a run of `name`, and once its step runs, a second run that must follow it. */
  const holderAndFollower = async (name: string): Promise<[string, string]> => {
    const holder = await startRun(sluice, name);
    await waitFor(`${name}: the holder to run`, async () =>
      step(await getRun(sluice, holder), 'shared').status === 'Running' ? true : undefined,
    );
    const follower = await startRun(sluice, name);
    await waitFor(`${name}: the follower to wait for the holder`, async () =>
      (step(await getRun(sluice, follower), 'shared') as { waitingFor?: unknown }).waitingFor
        ? true
        : undefined,
    );
    return [holder, follower];
  };

  // Success: the follower takes the holder's outputs as Reused.
  await publish(sluice, pipeline('follow-ok', ''));
  const [holder, follower] = await holderAndFollower('follow-ok');
  const [h, f] = await Promise.all([waitForRun(sluice, holder), waitForRun(sluice, follower)]);
  assert.equal(h.status, 'Completed');
  assert.equal(f.status, 'Completed');
  assert.equal(step(f, 'shared').status, 'Reused');
  assert.deepEqual(step(f, 'shared').reusedFrom, { runId: holder, step: 'shared' });
  assert.equal(starts(journal, 'shared'), 1, 'the step ran once');

  // Failure: the follower computes the step itself (and fails the same way here).
  await publish(sluice, pipeline('follow-fail', '--exit 3'));
  const [failing, second] = await holderAndFollower('follow-fail');
  const [hf, sf] = await Promise.all([waitForRun(sluice, failing), waitForRun(sluice, second)]);
  assert.equal(hf.status, 'Failed');
  assert.equal(sf.status, 'Failed');
  assert.equal(step(sf, 'shared').error?.code, 'exit-code', 'it ran the step itself');
  assert.equal(starts(journal, 'shared'), 3, 'once for the holder, once for the follower');
});
