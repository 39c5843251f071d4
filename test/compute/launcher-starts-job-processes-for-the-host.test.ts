import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startCommand, type CommandExit, type CommandProcess } from '../../lib/compute/command-start';
import { launcherPid, spawnViaLauncher } from '../../lib/compute/launcher';

/** Runs a command through the launcher to its end: output (stdout and stderr as they came), exit, pid. */
function run(
  cmd: { command: string; argv?: string[] },
  onStart?: (p: CommandProcess) => void,
): Promise<{ exit: CommandExit; output: string; pid?: number }> {
  return new Promise((resolve) => {
    let output = '';
    let proc: CommandProcess | undefined;
    startCommand(cmd, { cwd: tmpdir(), env: { PATH: process.env.PATH } }, spawnViaLauncher, {
      created: (p) => (proc = p),
      started: (p) => onStart?.(p),
      output: (b) => (output += b.toString()),
      ended: (exit) => {
        // All output is read before the process closes.
        if (!proc || 'error' in exit) return resolve({ exit, output, pid: proc?.pid });
        proc.once('close', () => resolve({ exit, output, pid: proc!.pid }));
      },
    });
  });
}

/** A field of /proc/<pid>/status. */
const field = (pid: number, name: string): string | undefined =>
  readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
    ?.split(/\s+/)[1];

test('a job process started by the launcher reports its output in order and its exit code', async () => {
  const r = await run({ command: 'echo first; echo second >&2; seq 1 20000; exit 3' });
  assert.deepEqual(r.exit, { code: 3, signal: null });
  // stdout and stderr are two pipes (no order between them, as with any process); each keeps its own.
  const lines = r.output.trim().split('\n');
  assert.equal(lines.filter((l) => l === 'second').length, 1);
  const out = lines.filter((l) => l !== 'second');
  assert.equal(out.length, 20001, 'no output is lost');
  assert.equal(out[0], 'first');
  assert.ok(
    out.slice(1).every((l, i) => l === String(i + 1)),
    'stdout arrives in order',
  );
});

test('the launcher is the parent, the job leads its own process group, and the host can stop the group', async () => {
  let seen: { ppid?: string } = {};
  const r = await run({ command: 'sleep', argv: ['sleep', '30'] }, (p) => {
    seen = { ppid: field(p.pid!, 'PPid') };
    // Its process group is its own: signalling the group reaches it (as cancel and timeouts do).
    process.kill(-p.pid!, 'SIGTERM');
  });
  assert.equal(seen.ppid, String(launcherPid()), 'started by the launcher, not by this process');
  assert.notEqual(launcherPid(), process.pid);
  assert.deepEqual(r.exit, { code: null, signal: 'SIGTERM' });
});

test('a program that cannot run directly goes to the shell, which says why', async () => {
  const r = await run({ command: 'no-such-program-sluice-test --flag' });
  assert.deepEqual(r.exit, { code: 127, signal: null });
  assert.match(r.output, /not found/);
});

test('when the launcher dies its jobs end as errors, and the next start gets a new launcher', async () => {
  let pid: number | undefined;
  const ended: Array<{ exit: CommandExit }> = [];
  const before = await new Promise<number>((resolve) => {
    void run({ command: 'sleep', argv: ['sleep', '30'] }, (p) => {
      pid = p.pid;
      resolve(launcherPid()!);
    }).then((r) => ended.push(r));
  });
  process.kill(before, 'SIGKILL');
  for (let i = 0; i < 100 && !ended.length; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(ended.length, 1, 'the job whose exit can no longer be followed ends');
  assert.ok('error' in ended[0]!.exit && /launcher/.test(ended[0]!.exit.error.message));
  // It would have outlived the launcher (a process group of its own): the host stopped it.
  const alive = (): boolean => {
    try {
      process.kill(-pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 40 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(), false, 'the job whose exit cannot be followed is stopped');
  const again = await run({ command: 'true', argv: ['true'] });
  assert.deepEqual(again.exit, { code: 0, signal: null });
  assert.ok(launcherPid() !== undefined && launcherPid() !== before, 'a new launcher started');
});
