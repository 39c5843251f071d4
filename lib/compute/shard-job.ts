/**
 * The runner's part of a parallelRun shard: it writes the driver's config, runs the shard driver
 * (shard-driver.ts) as the job's one process, reads the end the driver wrote, and uploads the shard's
 * outputs. The driver runs in this job's process group, so cancel and "lost" stop it like any job's
 * process; it has no overall time limit (each mini-batch has the step's). A driver that wrote no end
 * failed, and the job is a platform failure.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { putDirectory, putFile } from '../data/cas';
import type { JobSpec, ShardSpec } from './job';
import { readMetrics } from './job-collect';
import { safeName } from './job-local';
import type { JobProcess, ProcessRun } from './job-process';
import type { JobEnding } from './job-report';
import type { BlobLogWriter } from './log-stream';
import type { PlaceholderPaths } from './placeholders';
import { resultFile, type ShardDriverConfig } from './shard-driver';
import { shardOutputs, type ShardEnd } from './shard-loop';

/** The shard driver's script, beside this module (compiled). */
const SHARD_DRIVER = join(__dirname, 'shard-driver.js');

/** Runs the shard and fills in `end` as it goes (outcome, outputs, mini-batches, metrics). */
/** The driver's config file in a shard job's folder (its result and progress files sit beside it). */
export const shardConfigFile = (jobRoot: string): string => join(jobRoot, 'shard.json');

export async function runShardJob(
  spec: JobSpec,
  shard: ShardSpec,
  end: JobEnding,
  job: {
    proc: JobProcess;
    agentId: string;
    /** The runner's grace between SIGTERM and SIGKILL; a mini-batch gets half of it. @default 2000 */
    killGraceMs?: number;
    paths: PlaceholderPaths;
    env: NodeJS.ProcessEnv;
    codeDir: string;
    outputsDir: string;
    jobRoot: string;
    metricsFile: string;
    logw: BlobLogWriter;
  },
): Promise<void> {
  const { proc, agentId, codeDir, outputsDir, jobRoot, metricsFile, logw } = job;
  const config = shardConfigFile(jobRoot);
  const driver: ShardDriverConfig = {
    spec: {
      command: spec.command,
      ...(spec.args ? { args: spec.args } : {}),
      env: spec.env,
      outputs: spec.outputs,
      timeoutMs: spec.timeoutMs,
    },
    shard,
    paths: job.paths,
    jobEnv: job.env,
    codeDir,
    outputsDir,
    jobRoot,
    killGraceMs: Math.max(100, (job.killGraceMs ?? 2000) / 2),
  };
  writeFileSync(config, JSON.stringify(driver));
  const ran = await proc.run(
    { command: '', argv: [process.execPath, SHARD_DRIVER, config] },
    { PATH: process.env.PATH ?? '' },
    { cwd: codeDir, jobRoot, output: (b) => logw.write(b), noTimeout: true },
  );
  const r = readShardEnd(resultFile(config), ran);
  end.processMs = r.processMs;
  if (proc.stopReason === 'lost')
    end.outcome = {
      kind: 'lost',
      message: `Agent ${agentId} was stopped while the job ran; the job was killed.`,
    };
  else if (proc.canceled) end.outcome = { kind: 'canceled' };
  else if ('outcome' in r) end.outcome = r.outcome;
  else {
    end.outputs = await shardOutputs(spec, shard, jobRoot, safeName).upload({
      file: putFile,
      directory: putDirectory,
    });
    logw.note(`outputs ${end.outputs.map((o) => `${o.name}=${o.hash}`).join(', ') || 'none'}`);
    end.outcome = { kind: 'exit', exitCode: 0, signal: null };
    end.miniBatches = r.report;
  }
  end.metrics = existsSync(metricsFile) ? await readMetrics(metricsFile, logw) : [];
}

/** The shard's end as its driver wrote it; a driver that wrote none failed (or was stopped). */
function readShardEnd(file: string, ran: Pick<ProcessRun, 'exit'>): ShardEnd {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ShardEnd;
  } catch {
    const how =
      'error' in ran.exit
        ? `could not start: ${ran.exit.error.message}`
        : ran.exit.code !== null
          ? `exited with code ${ran.exit.code}`
          : `was killed by ${ran.exit.signal}`;
    return {
      processMs: 0,
      outcome: { kind: 'platform', message: `The shard driver ${how} without a result.` },
    };
  }
}
