/**
 * `sluice run-job`: runs one job by its row, through the same runner as the agents. A Slurm batch
 * script calls it inside the allocation with a jobs file (which job each array task runs) and a settings
 * file; it claims the row, runs the job and exits. Slurm's SIGTERM (time limit, preemption, scancel)
 * kills the job's process group and leaves the verdict to the backend, which knows why.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { useClients } from '../azure/clients';
import type { JobCredentials, PoolCredentials } from './credentials';
import { claimJob } from './jobs-runner';
import { CredentialSource, scopedClients } from './scoped-clients';
import { runJob } from './runner';

export interface JobsFile {
  /** Where the runner makes job working directories. */
  workDir: string;
  jobs: Array<{ runId: string; jobId: string }>;
}

/** Which job this process runs: the array task's (SLURM_ARRAY_TASK_ID), else the only one. */
export function pickJob(file: JobsFile, env: NodeJS.ProcessEnv): { runId: string; jobId: string } {
  const task = env.SLURM_ARRAY_TASK_ID;
  const i = task !== undefined && task !== '' ? Number(task) : 0;
  const job = file.jobs[i];
  if (!job) throw new Error(`The jobs file has no job ${i} (it lists ${file.jobs.length}).`);
  return job;
}

/** The settings file's entry holding the scoped credentials (kept out of the step's environment). */
export const SCOPED_CREDENTIALS_KEY = 'SLUICE_SCOPED_CREDENTIALS';

/** What the service hands a runner it launches: scoped credentials, never the connection string. */
export interface ScopedCredentials {
  pool: PoolCredentials;
  jobs: JobCredentials[];
}

/**
 * Reads the runner's settings file (JSON of environment variables) into this process's environment; its
 * scoped credentials become this process's storage clients and are kept out of the step's environment.
 */
export function loadEnvFile(path: string): void {
  const env = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(env))
    if (typeof v === 'string' && k !== SCOPED_CREDENTIALS_KEY) process.env[k] = v;
  const scoped = env[SCOPED_CREDENTIALS_KEY];
  if (typeof scoped === 'string') {
    const c = JSON.parse(scoped) as ScopedCredentials;
    const source = new CredentialSource({ endpoint: '', key: '', pool: c.pool.pool, log: () => {} });
    source.pool = c.pool;
    for (const j of c.jobs) source.jobs.set(`${j.runId}/${j.jobId}`, j);
    useClients(scopedClients(source, 1));
  }
}

export async function runOneJob(o: {
  runId: string;
  jobId: string;
  workDir: string;
  agentId?: string;
  log?: (line: string) => void;
}): Promise<'ran' | 'not-claimed'> {
  // Set by Slurm in the allocation (not settings of Sluice).
  const slurm = process.env;
  const slurmId = slurm.SLURM_ARRAY_JOB_ID
    ? `${slurm.SLURM_ARRAY_JOB_ID}_${slurm.SLURM_ARRAY_TASK_ID}`
    : slurm.SLURM_JOB_ID;
  const agentId = o.agentId ?? `${slurmId ? `slurm-${slurmId}` : `run-job-${process.pid}`}@${os.hostname()}`;
  const log = o.log ?? ((line: string) => console.log(`[run-job ${agentId}] ${line}`));
  const claim = await claimJob(o.runId, o.jobId, agentId);
  if (!claim.claimed) {
    log(
      `job ${o.runId}/${o.jobId} not run: ${claim.reason}${claim.row ? ` (state ${claim.row.state})` : ''}`,
    );
    return 'not-claimed';
  }
  const job = runJob(claim.row.spec, claim.row.etag, claim.row.startedAt!, {
    agentId,
    workDir: o.workDir,
    log,
    signalGraceMs: 1000,
    ...(process.env.SLUICE_ENDPOINT ? { endpoint: process.env.SLUICE_ENDPOINT } : {}),
    ...(process.env.SLUICE_KEY ? { key: process.env.SLUICE_KEY } : {}),
  });
  const abandon = (): void => job.kill('abandon');
  process.once('SIGTERM', abandon);
  process.once('SIGINT', abandon);
  try {
    await job.done;
  } finally {
    process.off('SIGTERM', abandon);
    process.off('SIGINT', abandon);
  }
  return 'ran';
}
