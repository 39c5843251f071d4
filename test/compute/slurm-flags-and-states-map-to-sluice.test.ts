import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jobName, sbatchArgs, timeLimitMinutes } from '../../lib/compute/slurm/sbatch';
import { slurmVerdict } from '../../lib/compute/slurm/states';
import { effectiveResources, loadComputeTargets, type ComputeTarget } from '../../lib/compute/targets';

test('step resources and target settings become sbatch flags, one argv element each', () => {
  const args = sbatchArgs({
    jobName: jobName('train model'),
    resources: { cpu: 1.5, memoryGb: 2, gpu: 1 },
    timeoutMs: 90_000,
    settings: { partition: 'gpu', account: 'ml', qos: 'high', extraArgs: ['--constraint=a100'] },
    output: '/tmp/x.out',
    chdir: '/tmp',
    arraySize: 5,
  });
  for (const f of [
    '--job-name=sluice-train_model',
    '--cpus-per-task=2',
    '--mem=2048M',
    '--gres=gpu:1',
    '--time=3',
    '--partition=gpu',
    '--account=ml',
    '--qos=high',
    '--array=0-4',
    '--constraint=a100',
    '--export=PATH,HOME,LANG,TZ',
  ])
    assert.ok(args.includes(f), `${f} in ${args.join(' ')}`);
  assert.ok(!args.some((a) => a.startsWith('--gres')) || args.includes('--gres=gpu:1'));
  assert.equal(timeLimitMinutes(60_000), 2, "Slurm's limit is a minute past the step's own timeout");
});

test('Slurm end states map to the failure family: vanished, preempted and node failure are lost; TIMEOUT is timeout', () => {
  const code = (state: string | undefined, cancel = false): string | undefined => {
    const v = slurmVerdict('7', state === undefined ? undefined : { state }, cancel);
    return v.kind === 'ended' ? v.failure.code : undefined;
  };
  assert.equal(code(undefined), 'lost');
  assert.equal(code('PREEMPTED'), 'lost');
  assert.equal(code('NODE_FAIL'), 'lost');
  assert.equal(code('BOOT_FAIL'), 'lost');
  assert.equal(code('TIMEOUT'), 'timeout');
  assert.equal(code('CANCELLED'), 'lost');
  assert.equal(code('CANCELLED', true), 'canceled');
  assert.equal(code('CANCELLED+', true), 'canceled');
  assert.equal(code('OUT_OF_MEMORY'), 'exit-code');
  assert.equal(code('COMPLETED'), 'lost', 'ended without a result: the runner died');
  assert.equal(code('PENDING'), undefined);
  assert.equal(code('RUNNING'), undefined);
  // Any state string gives a verdict with a message naming the job; none throws.
  fc.assert(
    fc.property(fc.string(), fc.boolean(), (s, c) => {
      const v = slurmVerdict('42', { state: s }, c);
      return v.kind === 'active' ? v.detail.includes('42') : v.failure.message.includes('42');
    }),
  );
});

test('a request bigger than its target fails with what to do; defaults fill what the step left out', () => {
  const t: ComputeTarget = {
    name: 'hpc',
    backend: 'slurm',
    pool: 'slurm-hpc',
    environment: {},
    resources: { cpu: 4, gpu: 1 },
    defaults: { cpu: 1, memoryGb: 1 },
  };
  assert.deepEqual(effectiveResources(undefined, t), { resources: { cpu: 1, memoryGb: 1 }, problems: [] });
  const big = effectiveResources({ cpu: 8, gpu: 2 }, t);
  assert.equal(big.problems.length, 2);
  assert.match(big.problems[0]!, /asks for 8 CPU\(s\), but compute target "hpc" offers at most 4/);
});

test('SLUICE_COMPUTE_TARGETS takes agent pools (old and new shape) and Slurm targets', () => {
  const t = loadComputeTargets({
    SLUICE_COMPUTE_TARGETS: JSON.stringify({
      old: { pool: 'p1' },
      gpu: { backend: 'agent', settings: { pool: 'gpu-a100' }, resources: { gpu: 2 } },
      hpc: { backend: 'slurm', settings: { partition: 'debug' }, resources: { cpu: 4 } },
    }),
  });
  assert.equal(t.old!.backend, 'agent');
  assert.equal(t.gpu!.pool, 'gpu-a100');
  assert.equal(t.hpc!.backend, 'slurm');
  assert.equal(t.hpc!.slurm!.partition, 'debug');
  assert.throws(
    () =>
      loadComputeTargets({
        SLUICE_COMPUTE_TARGETS: '{"x":{"backend":"slurm","settings":{"extraArgs":["; rm -rf /"]}}}',
      }),
    /one sbatch option/,
  );
});
