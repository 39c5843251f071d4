/**
 * Azurite (blob, queue, table) as a child process started from the npm package's own entry point, with
 * `parent-watch` preloaded so it dies with us. Ports are chosen by Azurite (port 0) and read back from
 * its "successfully listening at" lines, which avoids the race of probing for free ports.
 */
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import readline from 'node:readline';
import { exitedEarly, prefixStderr, siblingEntry, spawnNode, wrapChild, type ChildHandle } from './children';
import { waitForLockFree } from './dir-lock';

export interface AzuriteOptions {
  /** Folder for Azurite's files; ignored when `inMemory`. */
  location?: string;
  inMemory: boolean;
  host: string;
  /** Fixed ports (0 or absent: Azurite picks). */
  ports?: { blob?: number; queue?: number; table?: number };
  /** @default 30000 */
  timeoutMs?: number;
}

export interface RunningAzurite extends ChildHandle {
  ports: { blob: number; queue: number; table: number };
}

export async function startAzurite(opts: AzuriteOptions): Promise<RunningAzurite> {
  const bin = require.resolve('azurite/dist/src/azurite.js');
  const watch = siblingEntry('parent-watch');
  const args = [
    '--silent',
    '--skipApiVersionCheck',
    '--loose',
    '--disableTelemetry',
    '--blobHost',
    opts.host,
    '--blobPort',
    String(opts.ports?.blob ?? 0),
    '--queueHost',
    opts.host,
    '--queuePort',
    String(opts.ports?.queue ?? 0),
    '--tableHost',
    opts.host,
    '--tablePort',
    String(opts.ports?.table ?? 0),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  let cwd = os.tmpdir();
  if (opts.inMemory) {
    args.push('--inMemoryPersistence');
    delete env.SLUICE_LOCK_DIR;
  } else {
    const location = opts.location!;
    fs.mkdirSync(location, { recursive: true });
    await waitForLockFree(location);
    args.push('--location', location);
    env.SLUICE_LOCK_DIR = location;
    cwd = location;
  }
  const preload = watch.execArgv.length
    ? [...watch.execArgv, '--import', watch.file]
    : ['--require', watch.file];
  const child = spawnNode(bin, args, { execArgv: preload, env, cwd });
  prefixStderr(child, 'azurite');
  const handle = wrapChild('azurite', child);
  const ports: Partial<RunningAzurite['ports']> = {};
  const ready = new Promise<void>((resolve) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const m =
        /Azurite (Blob|Queue|Table) service is successfully listening at https?:\/\/[^\s]*:(\d+)/.exec(line);
      if (!m) return;
      ports[m[1].toLowerCase() as 'blob' | 'queue' | 'table'] = Number(m[2]);
      if (ports.blob && ports.queue && ports.table) resolve();
    });
  });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      exitedEarly(child, 'Azurite'),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Azurite did not start within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    await handle.stop(2000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return Object.assign(handle, { ports: ports as RunningAzurite['ports'] });
}

/** Unused here, kept for callers composing paths. */
export const AZURITE_DIR = 'azurite';
export const azuriteLocation = (dataDir: string): string => path.join(dataDir, AZURITE_DIR);
