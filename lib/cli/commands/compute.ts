import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { loadEnvFile, pickJob, runOneJob, type JobsFile } from '../../compute/run-one';

/**
 * `sluice run-job`: the job runner inside a Slurm allocation (written into the batch script by
 * lib/compute/slurm; not for people). `sluice compute …`: compute targets (see lib/compute/README.md).
 */
export function register(program: Command): void {
  program
    .command('run-job', { hidden: true })
    .description('run one Sluice job by its row (used inside a Slurm allocation)')
    .requiredOption(
      '--jobs-file <file>',
      'JSON {workDir, jobs: [{runId, jobId}]}; an array task runs its own',
    )
    .option('--env-file <file>', "JSON of the runner's settings (storage, endpoint)")
    .action(async (o: { jobsFile: string; envFile?: string }) => {
      if (o.envFile) loadEnvFile(o.envFile);
      const file = JSON.parse(readFileSync(o.jobsFile, 'utf8')) as JobsFile;
      const job = pickJob(file, process.env);
      await runOneJob({ ...job, workDir: file.workDir });
      // Timers of storage clients must not keep the allocation: the result is written.
      process.exit(0);
    });
}
