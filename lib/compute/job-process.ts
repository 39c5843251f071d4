/**
 * A job's process group, as the runner controls it: it starts the command (through the launcher unless
 * told otherwise), enforces the step's time limit, and stops the whole group on cancel, on a host that
 * stops ("lost") or on a scheduler ending the allocation ("abandon"): SIGTERM, then SIGKILL after the
 * grace. Nothing of a job outlives it: when the command exits, whatever is left in its group is killed.
 * The flags (`canceled`, `stopReason`, `timedOut`) say why a run ended; the runner reads them to name
 * the outcome.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getClock, type Clock, type ClockTimer } from '../host/clock';
import {
  outputClosed,
  startCommand,
  type CommandExit,
  type CommandProcess,
  type SpawnCommand,
} from './command-start';
import { spawnViaLauncher } from './launcher';

export interface JobProcessOptions {
  /** The step's time limit for one run of the command. */
  timeoutMs: number;
  /** Grace between SIGTERM and SIGKILL of the job's process group. @default 2000 */
  killGraceMs?: number;
  /** Inside a scheduler's allocation: how long to wait for its signal after the command died of one. @default 0 */
  signalGraceMs?: number;
  /** How job processes are started. @default through the launcher process (launcher.ts) */
  spawnCommand?: SpawnCommand;
}

/** One run of the command: how it ended and how long it ran. */
export interface ProcessRun {
  exit: CommandExit;
  processMs: number;
}

export class JobProcess {
  /** The user asked to stop the job. */
  canceled = false;
  /** The host stops (`lost`) or the scheduler ends the allocation (`abandon`). */
  stopReason: 'lost' | 'abandon' | undefined;
  /** The last run hit the step's time limit. */
  timedOut = false;
  private child: CommandProcess | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly clock: Clock = getClock();

  constructor(private readonly opts: JobProcessOptions) {}

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.killGroup();
  }

  kill(reason: 'lost' | 'abandon'): void {
    this.stopReason = reason;
    this.killGroup();
  }

  /** Runs the command once (a shard's driver, or a step's command) in its own process group; never throws. */
  async run(
    prepared: { command: string; argv?: string[] },
    env: NodeJS.ProcessEnv,
    where: {
      /** The command's working directory. */
      cwd: string;
      /** Where `.sluice-agent.json` (host pid, process group) is written once the process started. */
      jobRoot: string;
      output: (b: Buffer) => void;
      noTimeout?: boolean;
    },
  ): Promise<ProcessRun> {
    const t0 = Date.now();
    let timeout: ClockTimer | undefined;
    this.timedOut = false;
    const exit = await new Promise<CommandExit>((resolve) => {
      startCommand(prepared, { cwd: where.cwd, env }, this.opts.spawnCommand ?? spawnViaLauncher, {
        created: (proc) => (this.child = proc),
        started: (proc) => {
          writeFile(
            join(where.jobRoot, '.sluice-agent.json'),
            JSON.stringify({ agentPid: process.pid, pgid: proc.pid }),
          ).catch(() => undefined);
          if (this.canceled || this.stopReason) this.killGroup();
        },
        output: where.output,
        ended: resolve,
      });
      if (!where.noTimeout)
        timeout = this.clock.setTimeout(() => {
          this.timedOut = true;
          this.killGroup();
        }, this.opts.timeoutMs);
      if (this.canceled || this.stopReason) this.killGroup();
    });
    timeout?.cancel();
    const processMs = Date.now() - t0;
    // A scheduler signals the whole allocation at once: when the command died of a signal, give the
    // runner's own signal (abandon) a moment to land, so the scheduler's verdict is not mistaken for
    // the step's failure.
    if (!('error' in exit) && (exit.signal || (exit.code ?? 0) > 128) && this.opts.signalGraceMs)
      await new Promise((r) => setTimeout(r, this.opts.signalGraceMs));
    if (!('error' in exit)) {
      // Nothing of the job may outlive it: kill stragglers left in its group (background children).
      if (this.child?.pid) signalGroup(this.child.pid, 'SIGKILL');
      await outputClosed(this.child, 2000);
    }
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = undefined;
    return { exit, processMs };
  }

  /** Clears a pending SIGKILL (the job is over). */
  dispose(): void {
    if (this.killTimer) clearTimeout(this.killTimer);
  }

  private killGroup(): void {
    if (!this.child?.pid) return;
    signalGroup(this.child.pid, 'SIGTERM');
    const pid = this.child.pid;
    this.killTimer ??= setTimeout(() => signalGroup(pid, 'SIGKILL'), this.opts.killGraceMs ?? 2000);
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* the group is already gone */
  }
}
