/**
 * Starting and stopping the stack's child processes. Each child gets an IPC channel; when the channel
 * closes (parent exit, crash or SIGKILL) the child shuts itself down, so nothing is left holding ports or
 * the data folder. `stop()` uses that same path: close the channel, wait, and only then force.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import readline from 'node:readline';

export interface ChildHandle {
  readonly name: string;
  readonly process: ChildProcess;
  /** Graceful stop (closes the IPC channel), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Forwards a child's stderr lines to ours with a prefix; keeps stdout for the caller. */
export function prefixStderr(child: ChildProcess, name: string): void {
  if (!child.stderr) return;
  readline
    .createInterface({ input: child.stderr })
    .on('line', (l) => process.stderr.write(`[${name}] ${l}\n`));
}

export function wrapChild(name: string, child: ChildProcess): ChildHandle {
  let stopping: Promise<void> | undefined;
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  child.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(
      `[stack] ${name} exited unexpectedly (code ${code}, signal ${signal}). /api/health reports it as down; ` +
        'restart Sluice to bring it back (its data folder is kept).\n',
    );
  });
  return {
    name,
    process: child,
    stop(timeoutMs = 15_000) {
      stopping ??= (async () => {
        if (exited()) return;
        const exit = once(child, 'exit');
        if (child.connected) child.disconnect();
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        try {
          await exit;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}

/** Rejects when the child exits before `ready` resolves, with its last stderr lines. */
export function exitedEarly(child: ChildProcess, name: string): Promise<never> {
  return new Promise((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`${name} exited during start (code ${code}, signal ${signal}); see its output above`)),
    );
    child.once('error', (err) => reject(new Error(`${name} could not be started: ${err.message}`)));
  });
}

/** The compiled sibling module `name` (`.js` next to this file), with the node flags to run it. */
export function siblingEntry(name: string): { file: string; execArgv: string[] } {
  const js = path.join(__dirname, `${name}.js`);
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  const ts = path.join(__dirname, `${name}.ts`);
  if (fs.existsSync(ts)) return { file: ts, execArgv: ['--import', 'tsx'] };
  throw new Error(`lib/stack: ${name}.js is missing next to ${__filename}; run \`npm run build\``);
}

export function spawnNode(
  file: string,
  args: string[],
  opts: { execArgv?: string[]; env?: NodeJS.ProcessEnv; cwd?: string },
): ChildProcess {
  return spawn(process.execPath, [...(opts.execArgv ?? []), file, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    windowsHide: true,
  });
}
