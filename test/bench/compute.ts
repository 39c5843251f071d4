/**
 * Compute backend benchmarks (issue 13), against a real single-node Slurm (64 CPUs claimed) and a fresh
 * Sluice: a 50-step chain and a 200-batch parallelRun on the Slurm backend, the same chain on the agent
 * backend, and the same work as a plain loop of `sbatch --wait` (the chain) and one `sbatch --wait` array
 * (the batches). Per-step overhead = (total − Σ process time) / steps. Skipped without Slurm.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { slurmInstalled, startSlurm } from '../compute/slurm-cluster';

const exec = promisify(execFile);

interface RunDoc {
  status: string;
  createdAt: string;
  finishedAt?: string;
  steps: Array<{ name: string; processMs?: number; batches?: unknown }>;
}

const print = (name: string, value: number): void => console.log(`compute.${name} ${value.toFixed(1)}`);

async function runToEnd(
  sluice: SluiceProcess,
  pipeline: string,
  body: Record<string, unknown> = {},
): Promise<RunDoc> {
  const { runId } = await sluice.json<{ runId: string }>(`/api/pipelines/${pipeline}/runs`, {
    method: 'POST',
    body,
  });
  for (;;) {
    const doc = await sluice.json<RunDoc>(`/api/runs/${runId}`);
    if (['Completed', 'Failed', 'Canceled'].includes(doc.status)) {
      if (doc.status !== 'Completed')
        throw new Error(`run ${runId} ended ${doc.status}: ${JSON.stringify(doc.steps)}`);
      return doc;
    }
    await sleep(50);
  }
}

const totalMs = (d: RunDoc): number => Date.parse(d.finishedAt!) - Date.parse(d.createdAt);
const processMs = (d: RunDoc): number => d.steps.reduce((s, x) => s + (x.processMs ?? 0), 0);

function chain(n: number, compute: string, tag: string): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  for (let i = 0; i < n; i++)
    steps[`s${i}`] = { command: `true ${tag} s${i}`, compute, ...(i ? { after: [`s${i - 1}`] } : {}) };
  return steps;
}

export async function run(): Promise<void> {
  if (!slurmInstalled()) {
    console.log('# compute: Slurm is not installed (test/setup/slurm.sh); skipped');
    return;
  }
  const slurm = await startSlurm({ cpus: 64 });
  const work = await mkdtemp(join(os.tmpdir(), 'sluice-bench-slurm-'));
  const sluice = await startSluice({ env: { SLURM_CONF: slurm.conf } });
  try {
    await sluice.json('/api/compute/hpc', {
      method: 'PUT',
      body: { backend: 'slurm', settings: { partition: 'debug', workDir: join(work, 'slurm') } },
    });
    for (const [name, compute] of [
      ['chain-slurm', 'hpc'],
      ['chain-agent', 'local'],
    ] as const) {
      await sluice.json('/api/pipelines', {
        method: 'POST',
        body: { name, steps: chain(50, compute, name) },
      });
      await runToEnd(sluice, name); // warm-up
      const d = await runToEnd(sluice, name, { forceRerun: true });
      const key = compute === 'hpc' ? 'slurm' : 'agent';
      print(`chain50_${key}_total_ms`, totalMs(d));
      print(`chain50_${key}_per_step_overhead_ms`, (totalMs(d) - processMs(d)) / 50);
    }

    await sluice.json('/api/pipelines', {
      method: 'POST',
      body: {
        name: 'batches-slurm',
        settings: { maxConcurrency: 200 },
        steps: {
          make: {
            command: 'i=0; while [ $i -lt 200 ]; do echo $i > ${{outputs.docs}}/f$i.txt; i=$((i+1)); done',
            outputs: { docs: { type: 'directory' } },
          },
          score: {
            kind: 'parallelRun',
            compute: 'hpc',
            input: '${{steps.make.outputs.docs}}',
            miniBatchSize: 1,
            command: 'cat $(cat ${{minibatch}}) > ${{outputs.scores}}',
            outputs: { scores: { type: 'file' } },
          },
        },
      },
    });
    const b = await runToEnd(sluice, 'batches-slurm');
    const score = await sluice.json<{
      steps: Array<{ name: string; startedAt?: string; finishedAt?: string }>;
    }>(`/api/runs/${(b as unknown as { runId: string }).runId}`);
    const s = score.steps.find((x) => x.name === 'score')!;
    const scoreMs = Date.parse(s.finishedAt!) - Date.parse(s.startedAt!);
    print('parallel200_slurm_step_ms', scoreMs);
    print('parallel200_slurm_per_batch_ms', scoreMs / 200);

    // The same work without Sluice: 50 sequential `sbatch --wait`, and one 200-task array.
    const env = { ...process.env, SLURM_CONF: slurm.conf };
    const t0 = performance.now();
    for (let i = 0; i < 50; i++)
      await exec('sbatch', ['--wait', '--quiet', `--chdir=${work}`, '--output=/dev/null', '--wrap', 'true'], {
        env,
      });
    const loop = performance.now() - t0;
    print('chain50_sbatch_wait_total_ms', loop);
    print('chain50_sbatch_wait_per_step_ms', loop / 50);
    const t1 = performance.now();
    await exec(
      'sbatch',
      ['--wait', '--quiet', '--array=0-199', `--chdir=${work}`, '--output=/dev/null', '--wrap', 'true'],
      { env },
    );
    const arr = performance.now() - t1;
    print('parallel200_sbatch_wait_array_ms', arr);
    print('parallel200_sbatch_wait_array_per_task_ms', arr / 200);
  } finally {
    await sluice.stop();
    await slurm.stop();
    await rm(work, { recursive: true, force: true });
  }
}
