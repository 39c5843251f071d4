/**
 * The job runner: one job from a claimed row to its result. It materialises the inputs and the code
 * snapshot (job-prepare.ts), runs the command in its own process group (job-process.ts; log streamed to
 * blob storage) while heartbeating the row (job-watch.ts), uploads the declared outputs by sha256
 * (job-collect.ts; a shard's through shard-job.ts), and reports the result on the job row
 * (authoritative) and to the orchestration (a durable external event, for latency; job-report.ts). The
 * pull agent (agent.ts) and a job inside a Slurm allocation (`sluice run-job`, slurm/) both run jobs
 * through this one function.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { getClock } from '../host/clock';
import { DataError } from '../data/errors';
import { prepareStepEnvironment } from '../environments/agent-hook';
import { collectImages } from '../environments/images';
import type { SpawnCommand } from './command-start';
import type { JobSpec } from './job';
import { collectOutputs, readMetrics } from './job-collect';
import { safeName } from './job-local';
import { commandEnv, prepare } from './job-prepare';
import { JobProcess } from './job-process';
import { reportResult, type JobEnding } from './job-report';
import { watchJob, type JobWatch, type RowEtag } from './job-watch';
import { BlobLogWriter } from './log-stream';
import { shellQuote } from './placeholders';
import { progressFile } from './shard-driver';
import { runShardJob, shardConfigFile } from './shard-job';

/** What a runner needs from whoever hosts it (an agent, or `sluice run-job` in a Slurm allocation). */
export interface RunnerContext {
  /** Who runs the job: written to the row (claimedBy) and the result (agentId). */
  agentId: string;
  /** Where the job's working directory is made. */
  workDir: string;
  log: (line: string) => void;
  /** @default 2000 */
  heartbeatMs?: number;
  /** How often the row is read for a cancel request (real time). @default 500 */
  cancelPollMs?: number;
  /** Grace between SIGTERM and SIGKILL of the job's process group. @default 2000 */
  killGraceMs?: number;
  /** Sluice endpoint for completion events; without one, only the job row reports. */
  endpoint?: string;
  /** Function key for the endpoint (`x-functions-key`). Never logged. */
  key?: string;
  /** Inside a scheduler's allocation: how long to wait for its signal after the command died of one. @default 0 */
  signalGraceMs?: number;
  /** How job processes are started. @default through the launcher process (launcher.ts) */
  spawnCommand?: SpawnCommand;
}

/** A job being run: cancel (the user asked) or kill as lost (the host stops); `done` settles once reported. */
export interface ActiveJob {
  runId: string;
  jobId: string;
  cancel(): void;
  /**
   * Kills the job's process group. `lost`: the host stops, and the job is reported lost (retried
   * elsewhere). `abandon`: the scheduler is ending the allocation (Slurm's SIGTERM on timeout,
   * preemption or scancel); the runner writes no result, and the backend's status check, which knows
   * why the scheduler ended the job, writes it.
   */
  kill(reason: 'lost' | 'abandon'): void;
  done: Promise<void>;
}

/** Setting `SLUICE_AGENT_TRACE=1`: log each job's phase timings (for overhead work). @default off */
const TRACE = process.env.SLUICE_AGENT_TRACE === '1';
/** A shard's log is appended at most this often (a step's every 250 ms): its host serves many mini-batches. */
const SHARD_LOG_FLUSH_MS = 1000;

export function runJob(spec: JobSpec, claimEtag: string, startedAt: string, ctx: RunnerContext): ActiveJob {
  const { agentId, workDir, log } = ctx;
  const clock = getClock();
  const proc = new JobProcess({
    timeoutMs: spec.timeoutMs,
    killGraceMs: ctx.killGraceMs,
    signalGraceMs: ctx.signalGraceMs,
    spawnCommand: ctx.spawnCommand,
  });
  const job: ActiveJob = {
    runId: spec.runId,
    jobId: spec.jobId,
    cancel: () => proc.cancel(),
    kill: (reason) => proc.kill(reason),
    done: Promise.resolve(),
  };
  job.done = (async () => {
    const t0 = performance.now();
    let last = t0;
    const marks: string[] = [];
    const trace = TRACE
      ? (phase: string): void => {
          const now = performance.now();
          marks.push(`${phase}+${(now - last).toFixed(1)}`);
          last = now;
        }
      : (): void => {};
    const row: RowEtag = { etag: claimEtag };
    const jobRoot = join(workDir, `${safeName(spec.jobId)}-${randomUUID().slice(0, 8)}`);
    let logw: BlobLogWriter | undefined;
    let watch: JobWatch | undefined;
    const end: JobEnding = {
      outcome: { kind: 'platform', message: 'The job did not start.' },
      outputs: [],
      metrics: [],
    };
    let releaseEnv: (() => void) | undefined;
    try {
      watch = watchJob(spec, {
        agentId,
        row,
        log,
        // Sweep trials send the metrics reported so far with each beat (early termination reads them);
        // shards how many mini-batches have ended (the run shows live counts).
        progress:
          spec.kind === 'sweep'
            ? { kind: 'metrics', file: join(jobRoot, 'metrics.jsonl') }
            : spec.shard
              ? { kind: 'shard', file: progressFile(shardConfigFile(jobRoot)) }
              : undefined,
        heartbeatMs: ctx.heartbeatMs,
        cancelPollMs: ctx.cancelPollMs,
        onCancel: () => job.cancel(),
        onTakenAway: () => job.kill('lost'),
      });
      trace('setup');
      logw = BlobLogWriter.open(spec.runId, spec.stepName, spec.attempt, {
        batch: spec.batch,
        // A shard runs for long and writes a little per mini-batch: fewer, larger appends.
        ...(spec.shard ? { shard: spec.shard, flushMs: SHARD_LOG_FLUSH_MS } : {}),
      });
      const codeDir = join(jobRoot, 'code');
      const inputsDir = join(jobRoot, 'inputs');
      const outputsDir = join(jobRoot, 'outputs');
      // Synchronous on purpose: three local mkdirs take microseconds, while each await would hand the
      // event loop (shared with the host and the orchestration in `sluice start`) to whatever is
      // queued, and the process would start milliseconds later.
      mkdirSync(codeDir, { recursive: true });
      if (spec.inputs.length) mkdirSync(inputsDir);
      if (spec.outputs.length) mkdirSync(outputsDir);
      logw.note(
        `job ${spec.jobId} (run ${spec.runId}, step ${spec.stepName}, attempt ${spec.attempt}) on agent ${agentId}`,
      );
      const w = logw;

      trace('prepare');
      const prepared = await prepare(spec, { codeDir, inputsDir, outputsDir }, logw, () => proc.canceled);
      const stepEnv =
        !('outcome' in prepared) && spec.environment
          ? await prepareStepEnvironment(spec.environment, {
              codeDir,
              log: (l) => logw!.note(l),
              timeoutMs: spec.timeoutMs,
              ...(spec.environmentName ? { name: spec.environmentName } : {}),
            })
          : undefined;
      if (stepEnv?.ok) releaseEnv = stepEnv.release;
      if (stepEnv?.ok) end.environment = stepEnv.record;
      if ('outcome' in prepared) {
        end.outcome = prepared.outcome;
      } else if (stepEnv && !stepEnv.ok) {
        end.outcome = { kind: stepEnv.code, message: stepEnv.message };
      } else {
        const metricsFile = join(jobRoot, 'metrics.jsonl');
        const env = commandEnv(spec, jobRoot, metricsFile, prepared.env, stepEnv?.ok ? stepEnv.env : {});
        if (spec.shard) {
          await runShardJob(spec, spec.shard, end, {
            proc,
            agentId,
            killGraceMs: ctx.killGraceMs,
            paths: prepared.paths,
            env,
            codeDir,
            outputsDir,
            jobRoot,
            metricsFile,
            logw,
          });
        } else {
          logw.note(prepared.argv ? `$ ${prepared.argv.map(shellQuote).join(' ')}` : `$ ${prepared.command}`);
          trace('spawn');
          const ran = await proc.run(prepared, env, { cwd: codeDir, jobRoot, output: (b) => w.write(b) });
          const exit = ran.exit;
          end.processMs = ran.processMs;
          if ('error' in exit) {
            end.outcome = {
              kind: 'platform',
              message: `The command could not be started: ${exit.error.message}.`,
            };
          } else {
            end.exitCode = exit.code ?? undefined;
            logw.note(
              exit.code !== null
                ? `exited with code ${exit.code} after ${ran.processMs} ms`
                : `killed by ${exit.signal} after ${ran.processMs} ms`,
            );
            trace('metrics');
            // Most steps report no metrics: a synchronous stat (microseconds) spares them an async read.
            end.metrics = existsSync(metricsFile) ? await readMetrics(metricsFile, logw) : [];
            if (existsSync(join(jobRoot, 'images')))
              end.images = await collectImages(join(jobRoot, 'images'), (l) => logw!.note(l));
            if (proc.stopReason === 'lost')
              end.outcome = {
                kind: 'lost',
                message: `Agent ${agentId} was stopped while the job ran; the job was killed.`,
              };
            else if (proc.canceled) end.outcome = { kind: 'canceled' };
            else if (proc.timedOut) end.outcome = { kind: 'timeout', timeoutMs: spec.timeoutMs };
            else end.outcome = { kind: 'exit', exitCode: exit.code, signal: exit.signal };
            if (end.outcome.kind === 'exit' && exit.code === 0) {
              const collected = await collectOutputs(spec, outputsDir, logw);
              if ('outcome' in collected) end.outcome = collected.outcome;
              else end.outputs = collected.outputs;
            }
          }
        }
      }
    } catch (e) {
      const msg = (e as Error).message;
      end.outcome =
        e instanceof DataError && e.code === 'artifact-not-found'
          ? { kind: 'missing-input', message: msg }
          : { kind: 'platform', message: `The agent failed to run the job: ${msg}` };
      log(`job ${spec.jobId}: ${msg}`);
    } finally {
      watch?.stop();
      proc.dispose();
      releaseEnv?.();
    }
    trace('outcome');
    if (proc.stopReason === 'abandon') {
      logw?.note('the scheduler ended the job; its process group was killed');
      await logw?.close().catch(() => undefined);
      void rm(jobRoot, { recursive: true, force: true }).catch(() => undefined);
      return;
    }
    await reportResult(spec, end, { agentId, startedAt, row, logw, clock, target: ctx, trace });
    trace('done');
    void rm(jobRoot, { recursive: true, force: true }).catch(() => undefined);
    if (TRACE) log(`trace ${spec.jobId}: ${marks.join(' ')} total ${(performance.now() - t0).toFixed(1)} ms`);
  })().catch((e: unknown) => log(`job ${spec.jobId} crashed: ${(e as Error).stack ?? e}`));
  return job;
}
