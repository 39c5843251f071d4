/**
 * The sbatch command line for a job (or a parallelRun's mini-batches as one array): pure, so the flags
 * a step's resources and its target's settings give are tested without a cluster. Every value is one
 * argv element; nothing is parsed by a shell.
 */
import type { StepResources } from '../job';
import type { SlurmSettings } from '../targets';

export interface SbatchInput {
  jobName: string;
  resources?: StepResources;
  /** The step's own timeout; `--time` is one minute more, so Sluice's timeout (reported with the log) fires first. */
  timeoutMs: number;
  settings: SlurmSettings;
  /** Where Slurm writes the job's stdout/stderr (the runner's diagnostics; the step's log goes to blob storage). */
  output: string;
  chdir: string;
  /** Tasks of an array job (`--array=0-(n-1)`); absent for one job. */
  arraySize?: number;
}

/** The sbatch options (before the script and its arguments). */
export function sbatchArgs(i: SbatchInput): string[] {
  const args = [
    '--parsable',
    `--job-name=${i.jobName}`,
    `--output=${i.output}`,
    `--chdir=${i.chdir}`,
    // Only what a step's command needs from the submitter's environment; never the service's secrets.
    '--export=PATH,HOME,LANG,TZ',
    `--time=${timeLimitMinutes(i.timeoutMs)}`,
    '--ntasks=1',
  ];
  const r = i.resources ?? {};
  if (r.cpu !== undefined) args.push(`--cpus-per-task=${Math.max(1, Math.ceil(r.cpu))}`);
  if (r.memoryGb !== undefined) args.push(`--mem=${Math.max(1, Math.ceil(r.memoryGb * 1024))}M`);
  if (r.gpu) args.push(`--gres=gpu:${r.gpu}`);
  if (i.settings.partition) args.push(`--partition=${i.settings.partition}`);
  if (i.settings.account) args.push(`--account=${i.settings.account}`);
  if (i.settings.qos) args.push(`--qos=${i.settings.qos}`);
  if (i.arraySize !== undefined && i.arraySize > 1) args.push(`--array=0-${i.arraySize - 1}`);
  args.push(...(i.settings.extraArgs ?? []));
  return args;
}

/** Whole minutes (Slurm's unit), one more than the step's timeout. */
export function timeLimitMinutes(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 60_000)) + 1;
}

/** A job name Slurm shows in squeue: `sluice-<step>`, letters, digits, `._-` only. */
export function jobName(step: string): string {
  return `sluice-${step.replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 64);
}

/**
 * The batch script: fixed text, no user value in it. Its arguments are the node binary, Sluice's CLI,
 * the jobs file (which job each array task runs) and the runner's settings file.
 */
export const BATCH_SCRIPT = `#!/bin/sh
# Written by Sluice (lib/compute/slurm): runs Sluice's job runner inside the allocation.
exec "$1" "$2" run-job --jobs-file "$3" --env-file "$4"
`;
