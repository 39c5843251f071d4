/**
 * The shard driver: a small process the runner starts once per parallelRun shard (`node shard-driver.js
 * <config.json>`), which runs the shard's loop (shard-loop.ts) and starts each mini-batch's command
 * itself. Starting a process from the host costs a fork of the host's whole address space (~8 ms of its
 * one thread at 1 GB, measured), once per mini-batch; from this process it costs a fraction of that, off
 * the host's thread, with the slots' drivers forking in parallel. It loads no storage client: it writes
 * the shard's log to its stdout (the runner streams that to the log blob), leaves the outputs in the
 * job's folder (the runner uploads them) and its end in `<config>.result.json`.
 *
 * The runner starts it in its own process group, so cancel and "lost" stop it as they stop any job's
 * process; each mini-batch runs in a process group of its own (so its timeout stops only it), which the
 * driver stops when it is told to stop (SIGTERM) before it exits.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  outputClosed,
  spawnHere,
  startCommand,
  type CommandExit,
  type CommandProcess,
} from './command-start';
import type { JobSpec, ShardSpec } from './job';
import { checkOutputs, safeName, substituteJob } from './job-local';
import type { PlaceholderPaths } from './placeholders';
import type { ShardProgress } from './shard';
import { runShard, type ShardEnd } from './shard-loop';

/** What the runner hands the driver (written as JSON to the file named by the first argument). */
export interface ShardDriverConfig {
  spec: Pick<JobSpec, 'command' | 'args' | 'env' | 'outputs' | 'timeoutMs'>;
  shard: ShardSpec;
  paths: PlaceholderPaths;
  jobEnv: NodeJS.ProcessEnv;
  codeDir: string;
  outputsDir: string;
  jobRoot: string;
  /** Grace between SIGTERM and SIGKILL of a mini-batch's process group (shorter than the runner's). */
  killGraceMs: number;
}

/** The driver rewrites its progress file at most this often (the runner's heartbeat reads it every 2 s). */
const PROGRESS_EVERY_MS = 500;

export function resultFile(configFile: string): string {
  return `${configFile}.result.json`;
}

/** Where the driver keeps the shard's progress (replaced whole as mini-batches end; see progressWriter). */
export function progressFile(configFile: string): string {
  return `${configFile}.progress.json`;
}

type Exit = CommandExit;

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* the group is already gone */
  }
}

/**
 * Keeps the progress file current without a write per mini-batch: at most one every
 * `PROGRESS_EVERY_MS`, and a report that came sooner is written when that time is up (never left stale
 * while a long mini-batch runs). Each write replaces the file whole (write, then rename).
 */
export function progressWriter(file: string): { report(p: ShardProgress): void; stop(): void } {
  let last = 0;
  let latest: ShardProgress | undefined;
  let timer: NodeJS.Timeout | undefined;
  const write = (): void => {
    timer = undefined;
    last = Date.now();
    writeFileSync(`${file}.tmp`, JSON.stringify(latest));
    renameSync(`${file}.tmp`, file);
  };
  return {
    report(p) {
      latest = p;
      const wait = last + PROGRESS_EVERY_MS - Date.now();
      if (wait <= 0) write();
      else timer ??= setTimeout(write, wait);
    },
    stop: () => clearTimeout(timer),
  };
}

async function main(configFile: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as ShardDriverConfig;
  let stop = false;
  let current: CommandProcess | undefined;
  const stopCurrent = (): void => {
    const pid = current?.pid;
    if (!pid) return;
    signalGroup(pid, 'SIGTERM');
    setTimeout(() => signalGroup(pid, 'SIGKILL'), cfg.killGraceMs).unref();
  };
  process.on('SIGTERM', () => {
    stop = true;
    stopCurrent();
  });
  // The runner's process died (killed with its host): nobody will read this shard's result, so stop.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stop) {
      stop = true;
      stopCurrent();
    }
  }, 1000).unref();
  const out = (text: string): void => {
    process.stdout.write(text);
  };
  const run = (
    cmd: { command: string; argv?: string[] },
    env: NodeJS.ProcessEnv,
  ): Promise<{ exit: Exit; processMs: number; timedOut: boolean }> =>
    new Promise((resolve) => {
      const t0 = Date.now();
      let timedOut = false;
      const limit: { timer?: NodeJS.Timeout } = {};
      let settled = false;
      const done = (exit: Exit): void => {
        if (settled) return;
        settled = true;
        if (limit.timer) clearTimeout(limit.timer);
        const pid = current?.pid;
        // Nothing of the mini-batch may outlive it: stragglers in its group (background children).
        if (pid && !('error' in exit)) signalGroup(pid, 'SIGKILL');
        const proc = current;
        void outputClosed(proc, 2000).then(() => {
          current = undefined;
          resolve({ exit, processMs: Date.now() - t0, timedOut });
        });
      };
      startCommand(cmd, { cwd: cfg.codeDir, env }, spawnHere, {
        created: (proc) => (current = proc),
        started: () => {
          if (stop) stopCurrent();
        },
        output: (b) => process.stdout.write(b),
        ended: done,
      });
      limit.timer = setTimeout(() => {
        timedOut = true;
        stopCurrent();
      }, cfg.spec.timeoutMs);
    });
  const progress = progressWriter(progressFile(configFile));
  const end: ShardEnd = await runShard({
    spec: cfg.spec as JobSpec,
    shard: cfg.shard,
    log: {
      write: out,
      note: (line) => out(`[sluice ${new Date().toISOString()}] ${line}\n`),
    },
    jobEnv: cfg.jobEnv,
    paths: cfg.paths,
    outputsDir: cfg.outputsDir,
    jobRoot: cfg.jobRoot,
    run,
    stopped: () => stop,
    substitute: (paths) => substituteJob(cfg.spec, paths),
    checkOutputs: (dir) => checkOutputs(cfg.spec as JobSpec, dir),
    fileName: safeName,
    progress: (done) => progress.report(done),
  });
  progress.stop();
  writeFileSync(resultFile(configFile), JSON.stringify(end));
  // The log's last bytes reach the pipe before the process ends.
  await new Promise<void>((r) => process.stdout.write('', () => r()));
}

if (require.main === module) {
  main(process.argv[2]!).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stdout.write(`[sluice] the shard driver failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(70);
    },
  );
}
