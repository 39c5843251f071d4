import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { materialize, putFile, putManifest } from '../../lib/data/cas';
import { cancelJob, submitJob, superviseJob } from '../../lib/compute/dispatch';
import { readJob } from '../../lib/compute/jobs';
import { setExternal } from '../../lib/compute/jobs-service';
import { readLogText } from './slurm-log';
import { putComputeTarget } from '../../lib/compute/targets-store';
import type { ComputeTarget } from '../../lib/compute/targets';
import type { JobSpec } from '../../lib/compute/job';
import { jobSpec, nodeCmd, waitFor } from './support';
import { slurmInstalled, startSlurm, type SlurmTestCluster } from './slurm-cluster';

const skip = slurmInstalled() ? false : 'Slurm is not installed (test/setup/slurm.sh)';
let stack: TestStack;
let slurm: SlurmTestCluster;
let tmp: string;
let target: ComputeTarget;

before(async () => {
  if (skip) return;
  [stack, slurm] = await Promise.all([startTestStack(), startSlurm()]);
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-slurm-'));
  target = {
    name: 'hpc',
    backend: 'slurm',
    pool: 'slurm-hpc',
    environment: {},
    slurm: { partition: 'debug', slurmConf: slurm.conf, workDir: join(tmp, 'slurm') },
    defaults: { cpu: 1 },
    resources: { cpu: 8 },
  };
  await putComputeTarget(target);
});

after(async () => {
  await slurm?.stop();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function slurmSpec(overrides: Partial<JobSpec> = {}): JobSpec {
  return jobSpec('slurm-hpc', { target: 'hpc', ...overrides });
}

async function ended(spec: JobSpec, ms = 60_000) {
  return waitFor(
    `job ${spec.jobId} to end`,
    async () => {
      const s = await superviseJob(spec.runId, spec.jobId, 30_000);
      return s?.state === 'ended' ? s.result : undefined;
    },
    ms,
    200,
  );
}

test(
  'a step on a Slurm target runs as one sbatch job with its resources, through Sluice runner, and uploads its outputs',
  { skip },
  async () => {
    const src = join(tmp, 'in.txt');
    await writeFile(src, 'slurm says hi');
    const input = await putFile(src);
    const spec = slurmSpec({
      command:
        nodeCmd(
          "const fs=require('fs');const s=fs.readFileSync(process.argv[1],'utf8');console.log('job',process.env.SLURM_JOB_ID,'cpus',process.env.SLURM_CPUS_PER_TASK);fs.writeFileSync(process.argv[2],s.toUpperCase())",
        ) + ' ${{inputs.data}} ${{outputs.out}}',
      inputs: [{ name: 'data', hash: input.hash, type: 'file' }],
      outputs: [{ name: 'out', type: 'file' }],
      resources: { cpu: 2 },
    });
    await submitJob(spec);
    const row = await readJob(spec.runId, spec.jobId);
    assert.equal(row?.backend, 'slurm');
    assert.match(row!.external ?? '', /^\d+$/, 'the row keeps the Slurm job id');
    const shown = slurm.cmd('scontrol', ['show', 'job', '-o', row!.external!]);
    // CPUs/Task is what was asked; NumCPUs is what was allocated (a running job may get the whole node).
    assert.match(shown, /CPUs\/Task=2\b/, 'cpu: 2 became --cpus-per-task=2');
    assert.match(shown, /Partition=debug/);
    const result = await ended(spec);
    assert.equal(result.state, 'succeeded', JSON.stringify(result.failure));
    assert.match(result.agentId, new RegExp(`^slurm-${row!.external}@`));
    const out = result.outputs.find((o) => o.name === 'out')!;
    const dest = join(tmp, 'out.txt');
    await materialize(out.hash, 'file', dest);
    assert.equal(await readFile(dest, 'utf8'), 'SLURM SAYS HI');
    // The allocation got scoped credentials, never the connection string or the account key.
    const envDir = join(tmp, 'slurm', 'env');
    for (const f of await readdir(envDir)) {
      const text = await readFile(join(envDir, f), 'utf8');
      assert.ok(!text.includes('AccountKey') && !text.includes(stack.env.AzureWebJobsStorage!), f);
      assert.match(text, /SLUICE_SCOPED_CREDENTIALS/);
    }
    const log = await readLogText(spec);
    assert.match(log, new RegExp(`job ${row!.external} cpus 2`), 'the step log streams from the allocation');
  },
);

test('a job the user cancels is scancel-ed and ends canceled', { skip }, async () => {
  const spec = slurmSpec({ command: nodeCmd('setTimeout(()=>{}, 120000)') });
  await submitJob(spec);
  await waitFor('the job to run', async () => (await readJob(spec.runId, spec.jobId))?.state === 'running');
  const id = (await readJob(spec.runId, spec.jobId))!.external!;
  await cancelJob(spec.runId, spec.jobId);
  const result = await ended(spec);
  assert.equal(result.state, 'canceled');
  await waitFor('Slurm to show the job CANCELLED', async () =>
    /JobState=CANCELLED/.test(slurm.cmd('scontrol', ['show', 'job', '-o', id])),
  );
});

test('a Slurm job cancelled outside Sluice is lost, not left running', { skip }, async () => {
  const spec = slurmSpec({ command: nodeCmd('setTimeout(()=>{}, 120000)') });
  await submitJob(spec);
  await waitFor('the job to run', async () => (await readJob(spec.runId, spec.jobId))?.state === 'running');
  const id = (await readJob(spec.runId, spec.jobId))!.external!;
  slurm.cmd('scancel', [id]);
  const result = await ended(spec);
  assert.equal(result.state, 'failed');
  assert.equal(result.failure?.code, 'lost');
  assert.match(result.failure!.message, /cancelled outside Sluice/);
});

test('mini-batches of one step submitted together go out as one job array', { skip }, async () => {
  const runId = `run-arr-${Date.now()}`;
  const specs = [0, 1, 2, 3].map((i) =>
    slurmSpec({
      runId,
      jobId: `score.b${i}`,
      batch: i,
      stepName: 'score',
      command: nodeCmd(`console.log('batch ${i} task', process.env.SLURM_ARRAY_TASK_ID)`),
    }),
  );
  await Promise.all(specs.map((s) => submitJob(s)));
  const rows = await Promise.all(specs.map((s) => readJob(s.runId, s.jobId)));
  const ids = rows.map((r) => r!.external!);
  const base = ids[0]!.split('_')[0];
  assert.deepEqual(
    ids,
    [0, 1, 2, 3].map((i) => `${base}_${i}`),
    'one array, task i runs batch i',
  );
  const results = await Promise.all(specs.map((s) => ended(s)));
  assert.deepEqual(
    results.map((r) => r.state),
    ['succeeded', 'succeeded', 'succeeded', 'succeeded'],
  );
});

test(
  'parallelRun shards go out as array elements, each running its mini-batches in order',
  { skip },
  async () => {
    const runId = `run-shards-${Date.now()}`;
    const files = await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (n) => {
        const p = join(tmp, `${n}.txt`);
        await writeFile(p, `${n.toUpperCase()}\n`);
        return putFile(p);
      }),
    );
    // Two shards of two one-file mini-batches; a shard's input has one entry per mini-batch, named by its index.
    const specs = await Promise.all(
      [0, 1].map(async (s) => {
        const first = 2 * s;
        const shard = await putManifest(
          [first, first + 1].map((i) => ({ path: `${i}/f.txt`, hash: files[i]!.hash, size: 2, mode: 0o644 })),
        );
        return slurmSpec({
          runId,
          jobId: `score.b${s}.1`,
          batch: s,
          stepName: 'score',
          kind: 'parallelRun',
          command:
            nodeCmd(
              "const fs=require('fs');const l=fs.readFileSync(process.argv[1],'utf8').trim();fs.writeFileSync(process.argv[2],fs.readFileSync(l,'utf8')+process.env.SLUICE_BATCH+' '+process.env.SLURM_ARRAY_TASK_ID+'\\n')",
            ) + ' ${{minibatch}} ${{outputs.o}}',
          inputs: [{ name: 'input', hash: shard.hash, type: 'directory' }],
          outputs: [{ name: 'o', type: 'file' }],
          shard: { first, count: 2, batchType: 'directory', retries: 0, outputAction: 'appendRow' },
        });
      }),
    );
    await Promise.all(specs.map((sp) => submitJob(sp)));
    const ids = (await Promise.all(specs.map((sp) => readJob(sp.runId, sp.jobId)))).map((r) => r!.external!);
    const base = ids[0]!.split('_')[0];
    assert.deepEqual(ids, [`${base}_0`, `${base}_1`], 'one array, one element per shard');
    const results = await Promise.all(specs.map((sp) => ended(sp)));
    for (const [s, r] of results.entries()) {
      assert.equal(r.state, 'succeeded', JSON.stringify(r.failure));
      assert.deepEqual(r.miniBatches, { succeeded: 2, failed: [], errors: [] });
      const dest = join(tmp, `shard-${s}.txt`);
      await materialize(r.outputs.find((o) => o.name === 'o')!.hash, 'file', dest);
      const [x, y] = s === 0 ? ['A', 'B'] : ['C', 'D'];
      assert.equal(await readFile(dest, 'utf8'), `${x}\n${2 * s} ${s}\n${y}\n${2 * s + 1} ${s}\n`);
    }
  },
);

test('a job whose Slurm job vanished is lost', { skip }, async () => {
  const spec = slurmSpec({ command: 'true' });
  await submitJob(spec);
  // Make the row point at a job the cluster never had (as after a controller lost its state).
  slurm.cmd('scancel', [(await readJob(spec.runId, spec.jobId))!.external!]);
  await setExternal(spec.runId, spec.jobId, '999999');
  const result = await ended(spec);
  assert.equal(result.failure?.code, 'lost');
  assert.match(result.failure!.message, /vanished/);
});
