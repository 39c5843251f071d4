import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { spawnHere, type CommandProcess, type SpawnCommand } from './command-start';

/**
 * Starting job processes from a small helper process (launcher-process.ts) instead of the host.
 *
 * Why: Node starts a process by forking, and a fork copies the parent's page tables. Its cost grows with
 * the parent's memory, and it runs on the parent's one thread: from a host holding a few hundred MB it
 * took 4–11 ms a process (measured: 1 ms at 50 MB, 4 ms at 200 MB, 11 ms at 470 MB, 19 ms at 850 MB),
 * during which the host answered nothing. The launcher stays small, so a start costs about a millisecond
 * there, off the host's thread.
 *
 * The processes it starts behave as the host's own would: same command, working directory, environment
 * and process group, output and exit reported in order. The host signals their process groups directly.
 * If the launcher cannot be started, or keeps dying, the host starts processes itself.
 */

export type LauncherRequest = {
  t: 'spawn';
  id: number;
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
};

export type LauncherReply =
  | { t: 'spawn'; id: number; pid: number }
  | { t: 'out'; id: number; fd: 1 | 2; data: Uint8Array }
  | { t: 'error'; id: number; error: { message: string; code?: string | undefined } }
  | { t: 'exit' | 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

/** A process the launcher started, as the host sees it. */
class LaunchedProcess extends EventEmitter implements CommandProcess {
  pid: number | undefined;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  private closed = false;

  deliver(m: LauncherReply): void {
    switch (m.t) {
      case 'spawn':
        this.pid = m.pid;
        this.emit('spawn');
        return;
      case 'out':
        (m.fd === 1 ? this.stdout : this.stderr).write(
          Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
        );
        return;
      case 'error':
        this.emit('error', Object.assign(new Error(m.error.message), { code: m.error.code }));
        return;
      case 'exit':
        this.emit('exit', m.code, m.signal);
        return;
      case 'close':
        this.close(m.code, m.signal);
        return;
    }
  }

  /** Ends the output streams; `close` follows once their data has been read (as a ChildProcess's does). */
  close(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed) return;
    this.closed = true;
    let open = 2;
    for (const s of [this.stdout, this.stderr]) {
      s.once('end', () => --open === 0 && this.emit('close', code, signal));
      if (s.listenerCount('data') === 0) s.resume();
      s.end();
    }
  }
}

interface Launcher {
  child: ChildProcess;
  procs: Map<number, LaunchedProcess>;
}

let current: Launcher | undefined;
let nextId = 0;
/** Launchers that died: after a few, the host starts processes itself. */
let deaths = 0;
const MAX_DEATHS = 3;

function entry(): { file: string; execArgv: string[] } | undefined {
  const js = join(__dirname, 'launcher-process.js');
  if (existsSync(js)) return { file: js, execArgv: [] };
  const ts = join(__dirname, 'launcher-process.ts');
  if (existsSync(ts)) return { file: ts, execArgv: ['--import', 'tsx'] };
  return undefined;
}

function startLauncher(): Launcher | undefined {
  const e = entry();
  if (!e) return undefined;
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...e.execArgv, e.file], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
  } catch {
    return undefined;
  }
  const l: Launcher = { child, procs: new Map() };
  child.on('message', (m: LauncherReply) => {
    const p = l.procs.get(m.id);
    if (!p) return;
    if (m.t === 'close') {
      l.procs.delete(m.id);
      holdOpen(l);
    }
    p.deliver(m);
  });
  const gone = (): void => {
    if (current === l) current = undefined;
    deaths++;
    // Their exits can no longer be followed: stop each (its own process group) and end it as an error.
    for (const [id, p] of l.procs) {
      l.procs.delete(id);
      if (p.pid)
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      p.emit('error', new Error('the launcher process that started this process exited; it was stopped'));
      p.close(null, null);
    }
  };
  child.once('exit', gone);
  child.once('error', gone);
  // The launcher does not keep the host running; its channel does while a process it started runs.
  child.unref();
  holdOpen(l);
  return l;
}

function holdOpen(l: Launcher): void {
  const channel = l.child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
  if (l.procs.size) channel?.ref?.();
  else channel?.unref?.();
}

/** Starts a job's process through the launcher (starting the launcher on first use). */
export const spawnViaLauncher: SpawnCommand = (file, args, opts) => {
  if (deaths >= MAX_DEATHS) return spawnHere(file, args, opts);
  current ??= startLauncher();
  const l = current;
  if (!l || !l.child.connected) return spawnHere(file, args, opts);
  const id = ++nextId;
  const p = new LaunchedProcess();
  l.procs.set(id, p);
  holdOpen(l);
  const req: LauncherRequest = { t: 'spawn', id, file, args, cwd: opts.cwd, env: opts.env };
  l.child.send(req);
  return p;
};

/** The launcher's process id, while one runs (for tests and diagnostics). */
export function launcherPid(): number | undefined {
  return current?.child.connected ? current.child.pid : undefined;
}
