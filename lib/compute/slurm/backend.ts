/**
 * The Slurm backend: a step on a Slurm target becomes one sbatch job that runs Sluice's own job runner
 * (`sluice run-job`, the same runner.ts as the agents) inside the allocation. The service is a submit
 * host (`SLURM_CONF`, or the target's `slurmConf`). Jobs submitted together for one step (a
 * parallelRun's mini-batches) go out as one job array. Status comes from squeue (sacct where accounting
 * exists); what only Slurm knows (vanished, preempted, node failure, time limit) becomes the verdict on
 * the job row. Cancel flags the row and scancels.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { getClock } from '../../host/clock';
import { logLocation } from '../agent-backend';
import type { ComputeBackend, JobHandle, JobStatus } from '../backend';
import type { JobResult, JobSpec } from '../job';
import type { JobRow } from '../job-row';
import { readJob } from '../jobs';
import { createJobRow, markLost, requestCancel, setExternal, writeVerdict } from '../jobs-service';
import { ensureStorageFor, jobCredentials, poolCredentials } from '../credentials';
import { LOGS_CONTAINER } from '../log-stream';
import { SCOPED_CREDENTIALS_KEY, type ScopedCredentials } from '../run-one';
import { serviceEndpoint } from '../service-endpoint';
import type { ComputeTarget, SlurmSettings } from '../targets';
import { getComputeTarget } from '../targets-store';
import { accountingState, queueSnapshot, runSlurm, type SlurmCluster } from './cli';
import { BATCH_SCRIPT, jobName, sbatchArgs } from './sbatch';
import { slurmVerdict } from './states';

/** A job without a Slurm id this long after its row was made never reached Slurm. */
const SUBMIT_GRACE_MS = 60_000;

/** Where the repository's CLI is (the runner's entry point inside the allocation). */
const SLUICE_JS = resolve(__dirname, '..', '..', '..', '..', 'bin', 'sluice.js');

export function slurmWorkDir(settings: SlurmSettings | undefined): string {
  return settings?.workDir ?? join(os.tmpdir(), 'sluice-slurm');
}

export function clusterOf(settings: SlurmSettings | undefined): SlurmCluster {
  const conf = settings?.slurmConf ?? process.env.SLURM_CONF;
  return conf ? { conf } : {};
}

interface Pending {
  specs: JobSpec[];
  target: ComputeTarget;
  waiters: Array<{ resolve: (h: JobHandle[]) => void; reject: (e: unknown) => void; ids: string[] }>;
}

/** Submissions of one step made in the same tick, coalesced into one sbatch (an array when several). */
const pending = new Map<string, Pending>();

function groupKey(spec: JobSpec, target: ComputeTarget): string {
  return JSON.stringify([
    target.name,
    spec.runId,
    spec.stepName,
    spec.kind,
    spec.resources ?? {},
    spec.timeoutMs,
  ]);
}

export const slurmBackend: ComputeBackend = {
  kind: 'slurm',
  submit(specs, target): Promise<JobHandle[]> {
    return Promise.all(
      specs.map(
        (spec) =>
          new Promise<JobHandle[]>((resolve, reject) => {
            const key = groupKey(spec, target);
            let p = pending.get(key);
            if (!p) {
              p = { specs: [], target, waiters: [] };
              pending.set(key, p);
              const batch = p;
              setImmediate(() => {
                pending.delete(key);
                submitBatch(batch.specs, batch.target).then(
                  (handles) => {
                    for (const w of batch.waiters) resolve2(w, handles);
                  },
                  (e: unknown) => {
                    for (const w of batch.waiters) w.reject(e);
                  },
                );
              });
            }
            p.specs.push(spec);
            p.waiters.push({ resolve, reject, ids: [spec.jobId] });
          }),
      ),
    ).then((lists) => lists.flat());
  },
  async status(row, opts): Promise<JobStatus> {
    if (row.result) return { state: 'ended', result: row.result };
    const target = row.spec.target ? await getComputeTarget(row.spec.target) : undefined;
    const cluster = clusterOf(target?.slurm);
    const now = getClock().now();
    if (!row.external) {
      if (now - Date.parse(row.createdAt) < SUBMIT_GRACE_MS)
        return { state: 'queued', detail: 'submitting to Slurm' };
      return ended(row, {
        code: 'lost',
        message: `The job never reached Slurm (no Slurm job id ${SUBMIT_GRACE_MS / 1000} s after it was made); the service may have stopped while submitting.`,
      });
    }
    let view;
    try {
      const snap = await queueSnapshot(cluster);
      const entry = snap.get(row.external) ?? (await queueSnapshot(cluster, true)).get(row.external);
      if (entry) view = { state: entry.state, reason: entry.reason };
      else {
        const acct = await accountingState(cluster, row.external);
        if (acct) view = { state: acct };
      }
    } catch (e) {
      // The controller did not answer: no verdict (a job is never failed because squeue was down).
      return { state: row.state === 'running' ? 'running' : 'queued', detail: (e as Error).message };
    }
    const v = slurmVerdict(row.external, view, row.cancelRequested === true);
    if (v.kind === 'active') {
      if (row.state === 'running') {
        // The allocation lives but the runner went silent (a hung node): lost, as for agents.
        const lost = await markLost(row.runId, row.jobId, opts.lostAfterMs);
        if (lost) return { state: 'ended', result: lost };
      }
      return { state: row.state === 'running' ? 'running' : 'queued', detail: v.detail };
    }
    return ended(row, v.failure);
  },
  async cancel(row): Promise<void> {
    await requestCancel(row.runId, row.jobId);
    if (!row.external) return;
    const target = row.spec.target ? await getComputeTarget(row.spec.target) : undefined;
    await runSlurm(clusterOf(target?.slurm), 'scancel', [row.external]).catch(() => undefined);
  },
  logs(row) {
    return { container: LOGS_CONTAINER, blob: logLocation(row) };
  },
};

function resolve2(w: Pending['waiters'][number], handles: JobHandle[]): void {
  w.resolve(handles.filter((h) => w.ids.includes(h.jobId)));
}

/** The verdict written on the row (unless the runner's result landed first, which then wins). */
async function ended(row: JobRow, failure: NonNullable<JobResult['failure']>): Promise<JobStatus> {
  const result: JobResult = {
    jobId: row.jobId,
    state: failure.code === 'canceled' ? 'canceled' : 'failed',
    failure,
    outputs: [],
    metrics: [],
    finishedAt: new Date(getClock().now()).toISOString(),
    agentId: row.claimedBy ?? (row.external ? `slurm-${row.external}` : ''),
    ...(row.startedAt ? { startedAt: row.startedAt } : {}),
  };
  if (await writeVerdict(row, result)) return { state: 'ended', result };
  const now = await readJob(row.runId, row.jobId);
  if (now?.result) return { state: 'ended', result: now.result };
  return { state: now?.state === 'running' ? 'running' : 'queued' };
}

/**
 * The settings a runner inside the allocation gets (a file only the submitting user can read): scoped
 * credentials for its jobs' rows and logs and the artifact store, never the connection string. They
 * last the step's timeout plus a day of queueing.
 */
function runnerEnv(target: ComputeTarget, rows: JobRow[]): Record<string, string> {
  const ep = serviceEndpoint();
  const ttl = Math.max(...rows.map((r) => r.spec.timeoutMs)) + 24 * 3600_000;
  const scoped: ScopedCredentials = {
    pool: poolCredentials(target.pool, ttl),
    jobs: rows.map((r) => jobCredentials(r, ttl)),
  };
  return {
    [SCOPED_CREDENTIALS_KEY]: JSON.stringify(scoped),
    ...(ep ? { SLUICE_ENDPOINT: ep.url } : {}),
    ...(ep?.key ? { SLUICE_KEY: ep.key } : {}),
  };
}

/** Rows first (idempotent), then one sbatch for the jobs still waiting for a Slurm id. */
async function submitBatch(specs: JobSpec[], target: ComputeTarget): Promise<JobHandle[]> {
  const rows = await Promise.all(specs.map((s) => createJobRow(s, 'slurm')));
  const handles: JobHandle[] = rows.map((r) => ({
    backend: 'slurm',
    runId: r.runId,
    jobId: r.jobId,
    target: target.name,
    ...(r.external ? { external: r.external } : {}),
  }));
  const todo = rows.map((r, i) => ({ r, i })).filter(({ r }) => r.state === 'queued' && !r.external);
  if (!todo.length) return handles;
  await ensureStorageFor(target.pool);
  const dir = slurmWorkDir(target.slurm);
  const id = randomUUID();
  for (const sub of ['jobs', 'env', 'out', 'work'])
    mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  const script = join(dir, 'sluice-job.sh');
  const jobsFile = join(dir, 'jobs', `${id}.json`);
  const envFile = join(dir, 'env', `${id}.json`);
  await writeFile(script, BATCH_SCRIPT, { mode: 0o700 });
  await writeFile(
    jobsFile,
    JSON.stringify({
      workDir: join(dir, 'work'),
      jobs: todo.map(({ r }) => ({ runId: r.runId, jobId: r.jobId })),
    }),
  );
  await writeFile(
    envFile,
    JSON.stringify(
      runnerEnv(
        target,
        todo.map(({ r }) => r),
      ),
    ),
    { mode: 0o600 },
  );
  await chmod(envFile, 0o600);
  const first = todo[0]!.r.spec;
  const args = sbatchArgs({
    jobName: jobName(first.stepName),
    timeoutMs: first.timeoutMs,
    settings: target.slurm ?? {},
    output: join(dir, 'out', todo.length > 1 ? `${id}-%a.out` : `${id}.out`),
    chdir: dir,
    ...(first.resources ? { resources: first.resources } : {}),
    ...(todo.length > 1 ? { arraySize: todo.length } : {}),
  });
  let slurmId: string;
  try {
    const out = await runSlurm(clusterOf(target.slurm), 'sbatch', [
      ...args,
      script,
      process.execPath,
      SLUICE_JS,
      jobsFile,
      envFile,
    ]);
    slurmId = out.trim().split(';')[0]!;
    if (!/^\d+$/.test(slurmId)) throw new Error(`sbatch printed "${out.trim()}", not a job id`);
  } catch (e) {
    const failure = {
      code: 'platform' as const,
      message: `Submitting to Slurm target "${target.name}" failed: ${(e as Error).message}`,
    };
    await Promise.all(todo.map(({ r }) => ended(r, failure).catch(() => undefined)));
    throw e;
  }
  await Promise.all(
    todo.map(async ({ r, i }, k) => {
      const external = todo.length > 1 ? `${slurmId}_${k}` : slurmId;
      await setExternal(r.runId, r.jobId, external);
      handles[i] = { ...handles[i]!, external };
    }),
  );
  return handles;
}
