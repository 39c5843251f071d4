/**
 * A data folder belongs to one process at a time. The owner writes its pid to `<dir>/LOCK`; a newcomer
 * waits (bounded) for a live owner to exit, which covers a restart right after a crash: the previous
 * stack's children notice their parent died and shut down by themselves, writing their data first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const LOCK = 'LOCK';

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err.code === 'EPERM';
  }
}

/**
 * False when the pid was reused by an unrelated process (Linux: its command line names neither of our
 * children). Elsewhere a live pid is taken at its word.
 */
function isStackChild(pid: number): boolean {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /azurite|cosmos-process/.test(cmd);
  } catch {
    return !fs.existsSync('/proc/self/cmdline');
  }
}

/** The pid recorded in `<dir>/LOCK` if that process still runs. */
export function lockOwner(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dir, LOCK), 'utf8').trim());
  } catch {
    return undefined;
  }
  return pid !== process.pid && isAlive(pid) && isStackChild(pid) ? pid : undefined;
}

/** Waits until no live process holds `<dir>/LOCK`. */
export async function waitForLockFree(dir: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const owner = lockOwner(dir);
    if (owner === undefined) return;
    if (Date.now() > deadline) {
      throw new Error(
        `The data folder ${dir} is in use by process ${owner}. Stop that Sluice instance, or start this ` +
          'one with another --data-dir.',
      );
    }
    await sleep(100);
  }
}

/** Records this process as the owner; returns the release function (also run at process exit). */
export function writeLock(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK);
  fs.writeFileSync(file, String(process.pid));
  const release = (): void => {
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return release;
}

export async function acquireDirLock(dir: string, _tag: string, timeoutMs?: number): Promise<() => void> {
  await waitForLockFree(dir, timeoutMs);
  return writeLock(dir);
}
