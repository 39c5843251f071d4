import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import {
  publish,
  readJournal,
  sluiceCli,
  startRun,
  step,
  stepCommand,
  tempJournal,
  waitFor,
  waitForRun,
} from '../runs/helpers';
import { slurmInstalled, startSlurm, type SlurmTestCluster } from './slurm-cluster';

const skip = slurmInstalled() ? false : 'Slurm is not installed (test/setup/slurm.sh)';
let sluice: SluiceProcess;
let slurm: SlurmTestCluster;

before(async () => {
  if (skip) return;
  slurm = await startSlurm();
  // The service is a Slurm submit host: SLURM_CONF in its environment.
  sluice = await startSluice({ env: { SLURM_CONF: slurm.conf } });
});
after(async () => {
  await sluice?.stop();
  await slurm?.stop();
});

test(
  'a target added with one command runs a pipeline step on Slurm with its log live, and a cancel scancels it',
  { skip },
  async () => {
    const cli = sluiceCli(sluice);
    await cli('compute', 'add', 'hpc', '--slurm', '--partition', 'debug', '--max-cpu', '4');
    const list = await cli('compute', 'list');
    assert.match(list.stdout, /hpc\s+slurm/);

    const journal = tempJournal();
    await publish(sluice, {
      name: 'on-slurm',
      steps: {
        prep: { command: stepCommand('prep', journal), outputs: { o: { type: 'file' } } },
        train: {
          command: stepCommand('train', journal, { ins: ['d'] }),
          inputs: { d: '${{steps.prep.outputs.o}}' },
          outputs: { o: { type: 'file' } },
          compute: 'hpc',
        },
      },
    });
    const runId = await startRun(sluice, 'on-slurm');
    const run = await waitForRun(sluice, runId, 120_000);
    assert.equal(run.status, 'Completed', JSON.stringify(run));
    const trained = readJournal(journal).find((e) => e.name === 'train');
    assert.ok(trained, 'train ran');
    assert.ok(step(run, 'train').outputs?.o, 'its output came back by hash');

    // A request bigger than the target offers fails at publish, and at run start once the target shrank.
    const tooBig = await sluice.api('/api/pipelines', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'too-big',
        steps: {
          big: {
            command: stepCommand('big', journal, { out: false }),
            resources: { cpu: 64 },
            compute: 'hpc',
          },
        },
      }),
    });
    assert.equal(tooBig.status, 400);
    assert.match(await tooBig.text(), /asks for 64 CPU\(s\), but compute target \\"hpc\\" offers at most 4/);
    await publish(sluice, {
      name: 'fits',
      steps: {
        two: { command: stepCommand('two', journal, { out: false }), resources: { cpu: 2 }, compute: 'hpc' },
      },
    });
    await cli('compute', 'add', 'hpc', '--slurm', '--partition', 'debug', '--max-cpu', '1');
    const refused = await sluice.api('/api/pipelines/fits/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(refused.status, 400, 'checked at run start, with no restart');
    assert.match(await refused.text(), /asks for 2 CPU\(s\), but compute target \\"hpc\\" offers at most 1/);

    // Cancel mid-step: the Slurm job is cancelled.
    await publish(sluice, {
      name: 'long-on-slurm',
      steps: {
        long: {
          command: stepCommand('long', journal, { sleep: 120_000 }),
          outputs: { o: { type: 'file' } },
          compute: 'hpc',
        },
      },
    });
    const longRun = await startRun(sluice, 'long-on-slurm');
    await waitFor(
      'the long step to start on Slurm',
      () => readJournal(journal).find((e) => e.name === 'long'),
      60_000,
    );
    const live = await sluice.json<{ slurmJobs: Array<{ id: string; state: string }> }>(
      '/api/compute/hpc/live',
    );
    const running = live.slurmJobs.find((j) => j.state === 'RUNNING');
    assert.ok(running, `a running Slurm job in the live view: ${JSON.stringify(live)}`);
    const logs = await sluice.api(`/api/runs/${longRun}/steps/long/logs`);
    assert.equal(logs.status, 200);
    const res = await sluice.api(`/api/runs/${longRun}/cancel`, { method: 'POST' });
    assert.equal(res.status, 202);
    const ended = await waitForRun(sluice, longRun, 60_000);
    assert.equal(ended.status, 'Canceled');
    await waitFor(
      'Slurm to show the job CANCELLED',
      async () => /JobState=CANCELLED/.test(slurm.cmd('scontrol', ['show', 'job', '-o', running.id])),
      30_000,
    );
  },
);
