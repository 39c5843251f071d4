/**
 * The launcher: a small child process that starts the host's job processes for it (launcher.ts).
 *
 * Protocol (IPC channel, advanced serialisation):
 *   parent → launcher `{ t: 'spawn', id, file, args, cwd, env }`
 *   launcher → parent `{ t: 'spawn', id, pid }`, `{ t: 'out', id, fd, data }`, `{ t: 'error', id, error }`,
 *                     `{ t: 'exit', id, code, signal }`, `{ t: 'close', id, code, signal }`, in the order
 *                     the launcher saw them.
 * It holds no credentials of its own to use and writes nothing; it exits when the channel closes (the
 * host exited, even by SIGKILL), and only then. The processes it started have process groups of their own and are left
 * running, as they would be had the host started them: the host that restarts finds and stops them.
 */
import { spawn } from 'node:child_process';
import type { LauncherReply, LauncherRequest } from './launcher';

function send(m: LauncherReply): void {
  if (process.connected) process.send!(m);
}

process.on('message', (m: LauncherRequest) => {
  if (m.t !== 'spawn') return;
  const { id } = m;
  let child;
  try {
    child = spawn(m.file, m.args, {
      cwd: m.cwd,
      env: m.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    send({ t: 'error', id, error: { message: err.message, code: err.code } });
    send({ t: 'close', id, code: null, signal: null });
    return;
  }
  child.once('spawn', () => send({ t: 'spawn', id, pid: child.pid! }));
  child.stdout.on('data', (data: Buffer) => send({ t: 'out', id, fd: 1, data }));
  child.stderr.on('data', (data: Buffer) => send({ t: 'out', id, fd: 2, data }));
  child.on('error', (e: NodeJS.ErrnoException) =>
    send({ t: 'error', id, error: { message: e.message, code: e.code } }),
  );
  child.on('exit', (code, signal) => send({ t: 'exit', id, code, signal }));
  child.on('close', (code, signal) => send({ t: 'close', id, code, signal }));
});

process.on('disconnect', () => process.exit(0));
// It lives exactly as long as its parent: a signal meant for the parent's group (Ctrl-C, a scheduler's
// SIGTERM to the allocation) is the parent's to act on (it stops or abandons its jobs and says why).
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
