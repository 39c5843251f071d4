/**
 * The job runner: one job from a claimed row to its result. It materialises the inputs and the code
 * snapshot, runs the command in its own process group (log streamed to blob storage), uploads the
 * declared outputs by sha256, and reports the result on the job row (authoritative) and to the
 * orchestration (a durable external event, for latency). The pull agent (agent.ts) and a job inside a
 * Slurm allocation (`sluice run-job`, slurm/) both run jobs through this one function.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getClock, type ClockTimer } from '../host/clock';
import { materialize, putDirectory, putFile } from '../data/cas';
import { DataError } from '../data/errors';
import { prepareStepEnvironment } from '../environments/agent-hook';
import { collectImages } from '../environments/images';
import { extractCode } from './code';
import { reconnecting } from './reconnect';
import {
  outputClosed,
  startCommand,
  type CommandExit,
  type CommandProcess,
  type SpawnCommand,
} from './command-start';
import { spawnViaLauncher } from './launcher';
import { failureFor, type JobOutcome } from './failures';
import type { JobOutput, JobResult, JobSpec } from './job';
import { checkOutputs, safeName, substituteJob } from './job-local';
import { resultFile, type ShardDriverConfig } from './shard-driver';
import { shardOutputs, type ShardEnd } from './shard-loop';
import { readJob } from './jobs';
import { completeJob, heartbeat } from './jobs-runner';
import { BlobLogWriter } from './log-stream';
import { shellQuote, unknownPlaceholderMessage, type PlaceholderPaths } from './placeholders';

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

/** Environment variables never passed to user commands: the runner's own credentials. */
const SECRET_ENV =
  /^(AzureWebJobsStorage|COSMOS_KEY|SLUICE_KEY|.*(_KEY|SECRET|PASSWORD|CONNECTION_STRING|_TOKEN))$/i;

const MAX_METRICS = 2000;
/** Setting `SLUICE_AGENT_TRACE=1`: log each job's phase timings (for overhead work). @default off */
const TRACE = process.env.SLUICE_AGENT_TRACE === '1';
const MAX_METRIC_NAME = 200;
/** A shard's log is appended at most this often (a step's every 250 ms): its host serves many mini-batches. */
const SHARD_LOG_FLUSH_MS = 1000;

export function runJob(spec: JobSpec, claimEtag: string, startedAt: string, ctx: RunnerContext): ActiveJob {
  const { agentId, workDir, log } = ctx;
  const clock = getClock();
  let child: CommandProcess | undefined;
  let canceled = false;
  let stopReason: 'lost' | 'abandon' | undefined;
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = (): void => {
    if (!child?.pid) return;
    signalGroup(child.pid, 'SIGTERM');
    const pid = child.pid;
    killTimer ??= setTimeout(() => signalGroup(pid, 'SIGKILL'), ctx.killGraceMs ?? 2000);
  };
  const job: ActiveJob = {
    runId: spec.runId,
    jobId: spec.jobId,
    cancel: () => {
      if (canceled) return;
      canceled = true;
      killGroup();
    },
    kill: (reason) => {
      stopReason = reason;
      killGroup();
    },
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
    let etag: string | undefined = claimEtag;
    const jobRoot = join(workDir, `${safeName(spec.jobId)}-${randomUUID().slice(0, 8)}`);
    let logw: BlobLogWriter | undefined;
    let hbTimer: ClockTimer | undefined;
    let cancelPoll: NodeJS.Timeout | undefined;
    let outcome: JobOutcome = { kind: 'platform', message: 'The job did not start.' };
    let outputs: JobOutput[] = [];
    let metrics: JobResult['metrics'] = [];
    let processMs: number | undefined;
    let exitCode: number | undefined;
    let environment: JobResult['environment'];
    let images: JobResult['images'];
    let releaseEnv: (() => void) | undefined;
    let miniBatches: JobResult['miniBatches'];
    try {
      // Sweep trials send the metrics reported so far with each beat (early termination reads them).
      const progressFile = spec.kind === 'sweep' ? join(jobRoot, 'metrics.jsonl') : undefined;
      const beat = (): void => {
        hbTimer = clock.setTimeout(() => {
          heartbeat(spec.runId, spec.jobId, progressFields(progressFile)).then(
            (t) => {
              etag = t;
            },
            (e: unknown) => log(`heartbeat ${spec.jobId}: ${(e as Error).message}`),
          );
          beat();
        }, ctx.heartbeatMs ?? 2000);
      };
      beat();
      cancelPoll = setInterval(() => {
        readJob(spec.runId, spec.jobId)
          .then((row) => {
            if (row?.cancelRequested) job.cancel();
            // Failed as lost (or otherwise taken away) by the orchestration: a retry may be running
            // elsewhere, so this copy must stop now.
            else if (row && (row.state !== 'running' || row.claimedBy !== agentId)) job.kill('lost');
          })
          .catch(() => undefined);
      }, ctx.cancelPollMs ?? 500);
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
      /** Runs the command once (a mini-batch: once per attempt) in its own process group; never throws. */
      const runProcess = async (
        prepared: { command: string; argv?: string[] },
        env: NodeJS.ProcessEnv,
        opts: { noTimeout?: boolean } = {},
      ): Promise<{
        exit: { code: number | null; signal: string | null } | { error: Error };
        processMs: number;
      }> => {
        const t0 = Date.now();
        let timeout: ClockTimer | undefined;
        timedOut = false;
        const logw = w;
        const exit = await new Promise<CommandExit>((resolve) => {
          startCommand(prepared, { cwd: codeDir, env }, ctx.spawnCommand ?? spawnViaLauncher, {
            created: (proc) => (child = proc),
            started: (proc) => {
              writeFile(
                join(jobRoot, '.sluice-agent.json'),
                JSON.stringify({ agentPid: process.pid, pgid: proc.pid }),
              ).catch(() => undefined);
              if (canceled || stopReason) killGroup();
            },
            output: (b) => logw!.write(b),
            ended: resolve,
          });
          if (!opts.noTimeout)
            timeout = clock.setTimeout(() => {
              timedOut = true;
              killGroup();
            }, spec.timeoutMs);
          if (canceled || stopReason) killGroup();
        });
        timeout?.cancel();
        const processMs = Date.now() - t0;
        // A scheduler signals the whole allocation at once: when the command died of a signal, give the
        // runner's own signal (abandon) a moment to land, so the scheduler's verdict is not mistaken for
        // the step's failure.
        if (!('error' in exit) && (exit.signal || (exit.code ?? 0) > 128) && ctx.signalGraceMs)
          await new Promise((r) => setTimeout(r, ctx.signalGraceMs));
        if (!('error' in exit)) {
          // Nothing of the job may outlive it: kill stragglers left in its group (background children).
          if (child?.pid) signalGroup(child.pid, 'SIGKILL');
          await outputClosed(child, 2000);
        }
        if (killTimer) clearTimeout(killTimer);
        killTimer = undefined;
        return { exit, processMs };
      };

      trace('prepare');
      const prepared = await prepare(spec, { codeDir, inputsDir, outputsDir }, logw, () => canceled);
      const stepEnv =
        !('outcome' in prepared) && spec.environment
          ? await prepareStepEnvironment(spec.environment, {
              codeDir,
              log: (l) => logw!.note(l),
              timeoutMs: spec.timeoutMs,
            })
          : undefined;
      if (stepEnv?.ok) releaseEnv = stepEnv.release;
      if (stepEnv?.ok) environment = stepEnv.record;
      if ('outcome' in prepared) {
        outcome = prepared.outcome;
      } else if (stepEnv && !stepEnv.ok) {
        outcome = { kind: stepEnv.code, message: stepEnv.message };
      } else {
        const metricsFile = join(jobRoot, 'metrics.jsonl');
        const env: NodeJS.ProcessEnv = {
          ...baseEnv(),
          ...prepared.env,
          ...(stepEnv?.ok ? stepEnv.env : {}),
          SLUICE_METRICS: metricsFile,
          SLUICE_IMAGES: join(jobRoot, 'images'),
          SLUICE_RUN_ID: spec.runId,
          SLUICE_STEP: spec.stepName,
          SLUICE_JOB_ID: spec.jobId,
          SLUICE_ATTEMPT: String(spec.attempt),
          ...(spec.batch !== undefined ? { SLUICE_BATCH: String(spec.batch) } : {}),
        };
        if (spec.shard) {
          // The shard's loop runs in a small driver process of its own (shard-driver.ts), in this job's
          // process group: cancel and "lost" stop it like any job's process. It has no overall time limit;
          // each mini-batch has the step's.
          const config = join(jobRoot, 'shard.json');
          const driver: ShardDriverConfig = {
            spec: {
              command: spec.command,
              ...(spec.args ? { args: spec.args } : {}),
              env: spec.env,
              outputs: spec.outputs,
              timeoutMs: spec.timeoutMs,
            },
            shard: spec.shard,
            paths: prepared.paths,
            jobEnv: env,
            codeDir,
            outputsDir,
            jobRoot,
            killGraceMs: Math.max(100, (ctx.killGraceMs ?? 2000) / 2),
          };
          writeFileSync(config, JSON.stringify(driver));
          const ran = await runProcess(
            { command: '', argv: [process.execPath, SHARD_DRIVER, config] },
            { PATH: process.env.PATH ?? '' },
            { noTimeout: true },
          );
          const r = readShardEnd(resultFile(config), ran);
          processMs = r.processMs;
          if (stopReason === 'lost')
            outcome = {
              kind: 'lost',
              message: `Agent ${agentId} was stopped while the job ran; the job was killed.`,
            };
          else if (canceled) outcome = { kind: 'canceled' };
          else if ('outcome' in r) outcome = r.outcome;
          else {
            outputs = await shardOutputs(spec, spec.shard, jobRoot, safeName).upload({
              file: putFile,
              directory: putDirectory,
            });
            logw.note(`outputs ${outputs.map((o) => `${o.name}=${o.hash}`).join(', ') || 'none'}`);
            outcome = { kind: 'exit', exitCode: 0, signal: null };
            miniBatches = r.report;
          }
          metrics = existsSync(metricsFile) ? await readMetrics(metricsFile, logw) : [];
        } else {
          logw.note(prepared.argv ? `$ ${prepared.argv.map(shellQuote).join(' ')}` : `$ ${prepared.command}`);
          trace('spawn');
          const ran = await runProcess(prepared, env);
          const exit = ran.exit;
          processMs = ran.processMs;
          if ('error' in exit) {
            outcome = {
              kind: 'platform',
              message: `The command could not be started: ${exit.error.message}.`,
            };
          } else {
            exitCode = exit.code ?? undefined;
            logw.note(
              exit.code !== null
                ? `exited with code ${exit.code} after ${processMs} ms`
                : `killed by ${exit.signal} after ${processMs} ms`,
            );
            trace('metrics');
            // Most steps report no metrics: a synchronous stat (microseconds) spares them an async read.
            metrics = existsSync(metricsFile) ? await readMetrics(metricsFile, logw) : [];
            if (existsSync(join(jobRoot, 'images')))
              images = await collectImages(join(jobRoot, 'images'), (l) => logw!.note(l));
            if (stopReason === 'lost')
              outcome = {
                kind: 'lost',
                message: `Agent ${agentId} was stopped while the job ran; the job was killed.`,
              };
            else if (canceled) outcome = { kind: 'canceled' };
            else if (timedOut) outcome = { kind: 'timeout', timeoutMs: spec.timeoutMs };
            else outcome = { kind: 'exit', exitCode: exit.code, signal: exit.signal };
            if (outcome.kind === 'exit' && exit.code === 0) {
              const collected = await collectOutputs(spec, outputsDir, logw);
              if ('outcome' in collected) outcome = collected.outcome;
              else outputs = collected.outputs;
            }
          }
        }
      }
    } catch (e) {
      const msg = (e as Error).message;
      outcome =
        e instanceof DataError && e.code === 'artifact-not-found'
          ? { kind: 'missing-input', message: msg }
          : { kind: 'platform', message: `The agent failed to run the job: ${msg}` };
      log(`job ${spec.jobId}: ${msg}`);
    } finally {
      hbTimer?.cancel();
      if (cancelPoll) clearInterval(cancelPoll);
      if (killTimer) clearTimeout(killTimer);
      releaseEnv?.();
    }
    trace('outcome');
    if (stopReason === 'abandon') {
      logw?.note('the scheduler ended the job; its process group was killed');
      await logw?.close().catch(() => undefined);
      void rm(jobRoot, { recursive: true, force: true }).catch(() => undefined);
      return;
    }
    const failure = failureFor(outcome);
    if (failure) logw?.note(`failed (${failure.code}): ${failure.message}`);
    else logw?.note(`succeeded; outputs ${outputs.map((o) => `${o.name}=${o.hash}`).join(', ') || 'none'}`);
    trace('close+result');
    // The log's last bytes and the result row are written at once, and the completion event goes out
    // once the log is whole, so whoever learns of the end from the event finds the whole log.
    const logClosed = logw?.close().catch(() => undefined);
    const result: JobResult = {
      jobId: spec.jobId,
      state: failure ? (failure.code === 'canceled' ? 'canceled' : 'failed') : 'succeeded',
      outputs,
      metrics,
      startedAt,
      finishedAt: new Date(clock.now()).toISOString(),
      agentId,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(environment ? { environment } : {}),
      ...(images?.length ? { images } : {}),
      ...(failure ? { failure } : {}),
      ...(processMs !== undefined ? { processMs } : {}),
      ...(miniBatches ? { miniBatches } : {}),
    };
    const writing = (async (): Promise<boolean> => {
      // Storage hiccups are retried; a result too large for a table row (1 MiB) is retried without
      // its metrics rather than left unwritten (which would read as a lost job).
      for (let attempt = 0; attempt < 4; attempt++) {
        try {
          // The service may be restarting (same endpoints after): wait for it rather than lose the result.
          const written = await reconnecting(
            () => completeJob(spec.runId, spec.jobId, agentId, result, etag),
            {
              onLost: (e) =>
                log(`job ${spec.jobId}: storage unreachable (${(e as Error).message}); waiting for it`),
              onBack: () => log(`job ${spec.jobId}: storage reachable again`),
            },
          );
          if (written) return true;
          log(`job ${spec.jobId}: the row is no longer running under this agent; result not written`);
          return false;
        } catch (e) {
          const code = (e as { statusCode?: number }).statusCode;
          log(`job ${spec.jobId}: writing the result failed: ${(e as Error).message}`);
          if ((code === 413 || code === 400) && result.metrics.length) result.metrics = [];
          etag = undefined;
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        }
      }
      return false;
    })();
    trace('notify');
    if (spec.batch === undefined && !failure) {
      // A step's orchestration takes the result from the event itself, so the event waits neither for
      // the row nor for the log's last write (two storage round trips off every step's path). Log
      // readers wait for the log's completion mark instead. A result that reaches an orchestration
      // which already decided the job otherwise (lost, canceled) is ignored there as stale.
      await Promise.all([writing, logClosed, notify(spec, result, ctx)]);
    } else {
      // A failure's last log lines are what `sluice run --wait` shows: log first. A mini-batch's (trial's)
      // step gathers the batches' outputs from their rows: row first.
      await logClosed;
      if (await writing) await notify(spec, result, ctx);
    }
    trace('done');
    void rm(jobRoot, { recursive: true, force: true }).catch(() => undefined);
    if (TRACE) log(`trace ${spec.jobId}: ${marks.join(' ')} total ${(performance.now() - t0).toFixed(1)} ms`);
  })().catch((e: unknown) => log(`job ${spec.jobId} crashed: ${(e as Error).stack ?? e}`));
  return job;
}

async function notify(spec: JobSpec, result: JobResult, ctx: RunnerContext): Promise<void> {
  const { log } = ctx;
  const endpoint = ctx.endpoint ?? process.env.SLUICE_ENDPOINT;
  if (!spec.notify || !endpoint) return;
  const url =
    `${endpoint.replace(/\/+$/, '')}/runtime/webhooks/durabletask/instances/` +
    `${encodeURIComponent(spec.notify.instanceId)}/raiseEvent/${encodeURIComponent(spec.notify.eventName)}`;
  const key = ctx.key ?? process.env.SLUICE_KEY;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
      body: JSON.stringify(result),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok && res.status !== 202)
      log(`notify ${spec.jobId}: HTTP ${res.status} (the orchestration will poll the job row)`);
  } catch (e) {
    log(`notify ${spec.jobId}: ${(e as Error).message} (the orchestration will poll the job row)`);
  }
}

export { safeName };

/** The shard driver's script, beside this module (compiled). */
const SHARD_DRIVER = join(__dirname, 'shard-driver.js');

/** The shard's end as its driver wrote it; a driver that wrote none failed (or was stopped). */
function readShardEnd(
  file: string,
  ran: { exit: { code: number | null; signal: string | null } | { error: Error } },
): ShardEnd {
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

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* the group is already gone */
  }
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SECRET_ENV.test(k)) env[k] = v;
  return env;
}

type Prepared =
  | { command: string; argv?: string[]; env: Record<string, string>; paths: PlaceholderPaths }
  | { outcome: JobOutcome };

async function prepare(
  spec: JobSpec,
  dirs: { codeDir: string; inputsDir: string; outputsDir: string },
  logw: BlobLogWriter,
  canceled: () => boolean,
): Promise<Prepared> {
  const paths: PlaceholderPaths = { inputs: {}, outputs: {} };
  for (const i of spec.inputs) paths.inputs[i.name] = join(dirs.inputsDir, safeName(i.name));
  const batchInput = spec.kind === 'parallelRun' ? paths.inputs.input : undefined;
  if (batchInput) paths.minibatch = join(dirs.inputsDir, '..', 'minibatch.txt');
  for (const o of spec.outputs) paths.outputs[o.name] = join(dirs.outputsDir, safeName(o.name));

  // Placeholders first: a typo fails in milliseconds, before any download.
  const { command, argv, env, unknown } = substituteJob(spec, paths);
  if (unknown.length)
    return {
      outcome: {
        kind: 'missing-input',
        message: unknownPlaceholderMessage('command or env', [...new Set(unknown)], paths),
      },
    };

  if (spec.code) {
    logw.note(`extracting code ${spec.code}`);
    const r = await extractCode(spec.code, dirs.codeDir);
    if (!r.ok)
      return {
        outcome: r.missing
          ? {
              kind: 'missing-input',
              message: `The code snapshot ${spec.code} is not available: ${r.message}`,
            }
          : { kind: 'platform', message: `Extracting the code snapshot ${spec.code} failed: ${r.message}` },
      };
  }
  for (const i of spec.inputs) {
    if (canceled()) return { outcome: { kind: 'canceled' } };
    logw.note(`materialising input ${i.name} (${i.type} ${i.hash})`);
    try {
      const r = await materialize(i.hash, i.type, paths.inputs[i.name]!);
      logw.note(`input ${i.name}: ${r.files} file(s), ${r.size} bytes`);
    } catch (e) {
      if (
        e instanceof DataError &&
        (e.code === 'artifact-not-found' || e.code === 'invalid-hash' || e.code === 'not-a-directory')
      )
        return {
          outcome: {
            kind: 'missing-input',
            message: `Input "${i.name}" (${i.type} ${i.hash}) cannot be materialised: ${e.message}`,
          },
        };
      throw e;
    }
  }
  for (const o of spec.outputs)
    if (o.type === 'directory') await mkdir(paths.outputs[o.name]!, { recursive: true });
  // A parallelRun batch job: ${{minibatch}} is a file of the batch's absolute paths, one a line, in order.
  if (batchInput && paths.minibatch && !spec.shard) {
    // A batch of lines is one file: the listing names it.
    const files = spec.inputs.some((i) => i.name === 'input' && i.type === 'file')
      ? [batchInput]
      : (await readdir(batchInput, { recursive: true, withFileTypes: true }))
          .filter((d) => d.isFile())
          .map((d) => join(d.parentPath, d.name))
          .sort();
    await writeFile(paths.minibatch, files.map((f) => `${f}\n`).join(''));
  }
  if (canceled()) return { outcome: { kind: 'canceled' } };
  // For the Python helper (sluice.run.input/output/parameter): names → paths, as JSON.
  Object.assign(env, {
    SLUICE_INPUTS: JSON.stringify(paths.inputs),
    SLUICE_OUTPUTS: JSON.stringify(paths.outputs),
    SLUICE_PARAMETERS: JSON.stringify(spec.parameters ?? {}),
  });
  return argv ? { command, argv, env, paths } : { command, env, paths };
}

async function collectOutputs(
  spec: JobSpec,
  outputsDir: string,
  logw: BlobLogWriter,
): Promise<{ outputs: JobOutput[] } | { outcome: JobOutcome }> {
  const broken = checkOutputs(spec, outputsDir);
  if (broken) return { outcome: broken };
  const outputs: JobOutput[] = [];
  for (const o of spec.outputs) {
    const p = join(outputsDir, safeName(o.name));
    const r = o.type === 'file' ? await putFile(p) : await putDirectory(p);
    logw.note(`output ${o.name}: ${o.type} ${r.hash} (${r.size} bytes, ${r.uploadedBytes} uploaded)`);
    outputs.push({ name: o.name, type: o.type, hash: r.hash, size: r.size });
  }
  return { outputs };
}

/** The `progress` heartbeat field: the last 200 metric lines with a step index, at most ~30 KB. */
function progressFields(file: string | undefined): Record<string, unknown> {
  if (!file || !existsSync(file)) return {};
  try {
    const points: Array<{ name: string; value: number; step: number }> = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      try {
        const m = JSON.parse(line) as { name?: unknown; value?: unknown; step?: unknown };
        if (typeof m.name === 'string' && typeof m.value === 'number' && typeof m.step === 'number')
          points.push({ name: m.name.slice(0, 100), value: m.value, step: m.step });
      } catch {
        // a partial last line or a bad one: the result's parse reports it
      }
    }
    return points.length ? { progress: JSON.stringify(points.slice(-200)) } : {};
  } catch {
    return {};
  }
}

/** Parses `$SLUICE_METRICS` (JSON lines `{name, value, step?, time?}`); bad lines are noted, not fatal. */
export async function readMetrics(file: string, logw?: BlobLogWriter): Promise<JobResult['metrics']> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const out: JobResult['metrics'] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line) as { name?: unknown; value?: unknown; step?: unknown; time?: unknown };
      if (
        typeof m.name !== 'string' ||
        m.name === '' ||
        m.name.length > MAX_METRIC_NAME ||
        typeof m.value !== 'number' ||
        !Number.isFinite(m.value)
      ) {
        bad++;
        continue;
      }
      const metric: JobResult['metrics'][number] = { name: m.name, value: m.value };
      if (typeof m.step === 'number' && Number.isFinite(m.step)) metric.step = m.step;
      if (typeof m.time === 'string') metric.time = m.time;
      out.push(metric);
    } catch {
      bad++;
    }
  }
  if (bad)
    logw?.note(
      `${bad} metric line(s) ignored: each line must be JSON {"name": string of at most ${MAX_METRIC_NAME} characters, "value": finite number}`,
    );
  if (out.length > MAX_METRICS) {
    logw?.note(`${out.length} metrics reported; keeping the last ${MAX_METRICS}`);
    return out.slice(-MAX_METRICS);
  }
  return out;
}
