/**
 * Single flight across processes for one environment build: `<cacheDir>/<key>.lock`, created with
 * O_EXCL and holding the builder's pid. A newcomer waits while the holder lives; a lock whose pid is
 * gone (a killed agent) is taken over, so a crash never wedges the cache.
 */
import { open, readFile, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock older than this whose holder cannot be checked (another host) is taken as abandoned. */
const STALE_MS = 2 * 60 * 60 * 1000;

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the lock at `path`, waiting for a live holder; `onWait` is called once when it has to wait.
 * `isDone()` lets a waiter stop as soon as the holder's result exists (it then gets undefined).
 */
export async function acquireBuildLock(
  path: string,
  opts: { onWait?: (holder: string) => void; isDone: () => Promise<boolean>; pollMs?: number },
): Promise<HeldLock | undefined> {
  let told = false;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(
        JSON.stringify({ pid: process.pid, host: os.hostname(), at: new Date().toISOString() }),
      );
      await fh.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await opts.isDone()) return undefined;
    let holder: { pid?: number; host?: string } = {};
    try {
      holder = JSON.parse(await readFile(path, 'utf8')) as typeof holder;
    } catch {
      /* being written or just released: look again */
    }
    const st = await stat(path).catch(() => undefined);
    const sameHost = holder.host === os.hostname();
    const abandoned =
      st !== undefined &&
      ((sameHost && holder.pid !== undefined && !alive(holder.pid)) || Date.now() - st.mtimeMs > STALE_MS);
    if (abandoned) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (!told && holder.pid !== undefined) {
      told = true;
      opts.onWait?.(`process ${holder.pid}${sameHost ? '' : ` on ${holder.host}`}`);
    }
    await sleep(opts.pollMs ?? 200);
  }
}
