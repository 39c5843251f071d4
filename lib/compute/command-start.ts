import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { directArgv } from './direct-command';

/**
 * Starting a step's command, the one way the runner (a job) and the shard driver (a mini-batch) both do:
 * - an `args:` list is run as it is, and never reaches a shell;
 * - a plain command runs directly when a shell would change nothing (no quoting, globbing, pipes…),
 *   otherwise through `/bin/sh -c`;
 * - a command that cannot be run directly (not found, not executable) is handed to the shell, whose
 *   message says why ("not found").
 * The process gets a process group of its own (so a timeout or cancel stops it and its children) and
 * pipes for its output.
 */

/** What a command's process ended with: its exit, or why it could not start. */
export type CommandExit = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

/** The part of a ChildProcess the callers use: a process started here, or by the launcher process. */
export interface CommandProcess extends EventEmitter {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

/** Starts `file` detached (its own process group), stdin ignored, stdout and stderr piped. */
export type SpawnCommand = (
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
) => CommandProcess;

/** Forks this process: fine for a small one (the shard driver); the host uses the launcher (launcher.ts). */
export const spawnHere: SpawnCommand = (file, args, opts) =>
  spawn(file, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });

export interface CommandCallbacks {
  /** A process was created (before it has started): the one to signal from now on. */
  created(proc: CommandProcess): void;
  /** The process is running. */
  started(proc: CommandProcess): void;
  output(chunk: Buffer): void;
  /** Called once. */
  ended(exit: CommandExit): void;
}

export function startCommand(
  cmd: { command: string; argv?: string[] },
  where: { cwd: string; env: NodeJS.ProcessEnv },
  spawnCommand: SpawnCommand,
  on: CommandCallbacks,
): void {
  const listed = cmd.argv;
  const argv = listed ?? directArgv(cmd.command);
  let settled = false;
  const end = (exit: CommandExit): void => {
    if (settled) return;
    settled = true;
    on.ended(exit);
  };
  const launch = (direct: boolean): void => {
    let started = false;
    let proc: CommandProcess;
    try {
      proc = direct
        ? spawnCommand(argv![0]!, argv!.slice(1), {
            cwd: where.cwd,
            // What the shell would set: the working directory, not the caller's.
            env: { ...where.env, PWD: where.cwd },
          })
        : spawnCommand('/bin/sh', ['-c', cmd.command], where);
    } catch (e) {
      if (direct && !listed) return launch(false);
      return end({ error: e as Error });
    }
    on.created(proc);
    proc.once('spawn', () => {
      started = true;
      on.started(proc);
    });
    proc.stdout?.on('data', (b: Buffer) => on.output(b));
    proc.stderr?.on('data', (b: Buffer) => on.output(b));
    // Not executable directly (not found, no permission): the shell says why.
    proc.on('error', (e: Error) => (direct && !started && !listed ? launch(false) : end({ error: e })));
    proc.on('exit', (code: number | null, signal: NodeJS.Signals | null) => end({ code, signal }));
  };
  launch(argv !== undefined);
}

/** Resolves once the process's output pipes have closed (all its output read), or after `ms`. */
export function outputClosed(proc: CommandProcess | undefined, ms: number): Promise<void> {
  if (!proc || (proc.stdout?.closed !== false && proc.stderr?.closed !== false)) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    proc.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
