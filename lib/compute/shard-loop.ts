/**
 * The loop of a parallelRun shard job (`JobSpec.shard`), run by the shard's driver (shard-driver.ts)
 * inside the one job the runner (runner.ts) set up: the mini-batches one after another, each with its
 * own `${{inputs.input}}`, `${{minibatch}}` and outputs, a failed one retried here per the step's
 * `retries` after the step's back-off (the same `failureDecision` as steps). What it needs is lent:
 * running one process (with the per-attempt timeout), whether the job is being stopped, placeholder
 * substitution (never a shell with the values) and the output contract. It does no storage I/O: the
 * outputs are built in the job folder and the runner uploads them.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getClock } from '../host/clock';
import { failureDecision, retryBackoffMs } from '../runs/failure-policy';
import { failureFor, type JobOutcome } from './failures';
import type { JobSpec, ShardSpec } from './job';
import { shellQuote, type PlaceholderPaths } from './placeholders';
import {
  SHARD_END_HEADER,
  sectionHeader,
  shardEntryName,
  ShardOutputs,
  ShardTally,
  type ShardProgress,
  type ShardReport,
} from './shard';

type Exit = { code: number | null; signal: string | null } | { error: Error };

/** How a shard's loop ended: it ran every mini-batch (their fates), or it was stopped. */
export type ShardEnd = { processMs: number } & ({ outcome: JobOutcome } | { report: ShardReport });

/** What the runner lends a shard's loop. */
export interface ShardLoop {
  spec: JobSpec;
  shard: ShardSpec;
  /** The shard's log: raw text, and notes (one line, time-stamped). */
  log: { write(text: string): void; note(line: string): void };
  /** The job's environment (base, step environment, SLUICE_*), before a mini-batch's own values. */
  jobEnv: NodeJS.ProcessEnv;
  /** The job's placeholder paths; `inputs.input` is the shard's directory. */
  paths: PlaceholderPaths;
  outputsDir: string;
  jobRoot: string;
  /** Runs the command once in the job's process group; `timedOut`: the per-attempt limit killed it. */
  run(
    cmd: { command: string; argv?: string[] },
    env: NodeJS.ProcessEnv,
  ): Promise<{ exit: Exit; processMs: number; timedOut: boolean }>;
  /** The job was canceled or is being killed (lost, abandoned). */
  stopped(): boolean;
  substitute(paths: PlaceholderPaths): { command: string; argv?: string[]; env: Record<string, string> };
  checkOutputs(outputsDir: string): JobOutcome | undefined;
  /** The local file name of a declared output. */
  fileName(name: string): string;
  /** Called as each mini-batch ends for good: how many have succeeded and failed so far. */
  progress?(done: ShardProgress): void;
}

/**
 * A shard (parallelRun): its mini-batches one after another, each with its own `${{inputs.input}}`,
 * `${{minibatch}}` and outputs, a failed one retried here per the step's `retries` after the step's
 * back-off. Each attempt's log is a `==> batch N, attempt A <==` section of the job's one log.
 */
export async function runShard(loop: ShardLoop): Promise<ShardEnd> {
  const { spec, shard, log: w, jobEnv, stopped } = loop;
  const prepared = { paths: loop.paths };
  const dirs = { outputsDir: loop.outputsDir, jobRoot: loop.jobRoot };
  const tally = new ShardTally();
  const acc = shardOutputs(spec, shard, dirs.jobRoot, loop.fileName);
  await acc.open();
  const shardDir = prepared.paths.inputs.input!;
  const minibatch = prepared.paths.minibatch ?? join(dirs.jobRoot, 'minibatch.txt');
  let processMs = 0;
  const done: ShardProgress = { succeeded: 0, failed: 0, failedBatches: [] };
  for (let k = 0; k < shard.count && !stopped(); k++) {
    const index = shard.first + k;
    for (let attempt = 1; !stopped(); attempt++) {
      w.write(`${sectionHeader(index, attempt)}\n`);
      const batchInput = join(shardDir, shardEntryName(index));
      const paths: PlaceholderPaths = {
        ...prepared.paths,
        inputs: { ...prepared.paths.inputs, input: batchInput },
        minibatch,
      };
      // Synchronous on purpose (as the job's own mkdirs): a mini-batch's few local file operations take
      // microseconds each, and every await would hand the event loop to whatever else is queued.
      rmSync(dirs.outputsDir, { recursive: true, force: true });
      mkdirSync(dirs.outputsDir, { recursive: true });
      for (const o of spec.outputs)
        if (o.type === 'directory') mkdirSync(paths.outputs[o.name]!, { recursive: true });
      const files =
        shard.batchType === 'file'
          ? [batchInput]
          : readdirSync(batchInput, { recursive: true, withFileTypes: true })
              .filter((d) => d.isFile())
              .map((d) => join(d.parentPath, d.name))
              .sort();
      writeFileSync(minibatch, files.map((f) => `${f}\n`).join(''));
      const cmd = loop.substitute(paths);
      w.note(cmd.argv ? `$ ${cmd.argv.map(shellQuote).join(' ')}` : `$ ${cmd.command}`);
      const r = await loop.run(cmd, {
        ...jobEnv,
        ...cmd.env,
        SLUICE_INPUTS: JSON.stringify(paths.inputs),
        SLUICE_BATCH: String(index),
        SLUICE_ATTEMPT: String(attempt),
      });
      processMs += r.processMs;
      let o: JobOutcome;
      if ('error' in r.exit)
        o = { kind: 'platform', message: `The command could not be started: ${r.exit.error.message}.` };
      else {
        w.note(
          r.exit.code !== null
            ? `exited with code ${r.exit.code} after ${r.processMs} ms`
            : `killed by ${r.exit.signal} after ${r.processMs} ms`,
        );
        if (stopped()) break;
        o = r.timedOut
          ? { kind: 'timeout', timeoutMs: spec.timeoutMs }
          : { kind: 'exit', exitCode: r.exit.code, signal: r.exit.signal };
        if (o.kind === 'exit' && r.exit.code === 0) {
          const broken = loop.checkOutputs(dirs.outputsDir);
          if (broken) o = broken;
          else await acc.add(index, dirs.outputsDir);
        }
      }
      const f = failureFor(o);
      if (!f) {
        tally.batchSucceeded();
        done.succeeded++;
        loop.progress?.(done);
        break;
      }
      const retry = failureDecision(f.code).retryable && attempt <= shard.retries;
      tally.attemptFailed(index, attempt, f.code, f.message, !retry);
      const wait = retryBackoffMs(attempt);
      w.note(
        `mini-batch ${index} failed (${f.code}): ${f.message}${retry ? `; trying again in ${wait} ms` : ''}`,
      );
      if (!retry) {
        done.failed++;
        done.failedBatches.push(index);
        loop.progress?.(done);
        break;
      }
      await pause(wait, stopped);
    }
  }
  w.write(`${SHARD_END_HEADER}\n`);
  if (stopped()) return { processMs, outcome: { kind: 'canceled' } };
  const report = tally.report();
  w.note(`${report.succeeded} of ${shard.count} mini-batches succeeded`);
  return { processMs, report };
}

/** Where a shard's outputs are built (`ShardOutputs`), in the job's folder. */
export function shardOutputs(
  spec: JobSpec,
  shard: ShardSpec,
  jobRoot: string,
  fileName: (n: string) => string,
): ShardOutputs {
  return new ShardOutputs(
    join(jobRoot, 'shard-outputs'),
    spec.outputs.map((o) => ({ ...o, file: fileName(o.name) })),
    shard.outputAction,
  );
}

/** Waits `ms` (the step clock), or less when `stopped` turns true. */
function pause(ms: number, stopped: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      clearInterval(poll);
      timer.cancel();
      resolve();
    };
    const poll = setInterval(() => {
      if (stopped()) finish();
    }, 100);
    const timer = getClock().setTimeout(finish, ms);
  });
}
