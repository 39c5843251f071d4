/**
 * Azurite (blob, queue, table) as a child process: `azurite-process.ts` runs Azurite's own entry with
 * its metadata journaled (see README.md, "Azurite persistence"), dies with us, and reports over IPC the
 * ports the three services listen on, or why one could not listen.
 */
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { exitedEarly, prefixStderr, siblingEntry, spawnNode, wrapChild, type ChildHandle } from './children';
import type { JournalRestore } from './loki-db-journal';
import { PortTakenError } from './ports';

export interface AzuriteOptions {
  /** Folder for Azurite's files; ignored when `inMemory`. */
  location?: string;
  inMemory: boolean;
  host: string;
  /** Fixed ports (0 or absent: a free one). */
  ports?: { blob?: number; queue?: number; table?: number };
  /** @default 30000 */
  timeoutMs?: number;
}

export interface RunningAzurite extends ChildHandle {
  ports: { blob: number; queue: number; table: number };
  /** What each metadata database replayed from its journal at start (persistent only). */
  restores: JournalRestore[];
}

export async function startAzurite(opts: AzuriteOptions): Promise<RunningAzurite> {
  const entry = siblingEntry('azurite-process');
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
  // Azurite's SQL metadata mode would bypass the journal.
  delete env.AZURITE_DB;
  let cwd = os.tmpdir();
  if (opts.inMemory) {
    args.push('--inMemoryPersistence');
  } else {
    const location = path.resolve(opts.location!);
    fs.mkdirSync(location, { recursive: true });
    args.push('--location', location);
    cwd = location;
  }
  const child = spawnNode(entry.file, args, { execArgv: entry.execArgv, env, cwd });
  prefixStderr(child, 'azurite');
  child.stdout!.resume();
  const handle = wrapChild('azurite', child);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const msg = await Promise.race([
      new Promise<any>((resolve, reject) => {
        child.on('message', (m: any) => {
          if (m?.type === 'ready') resolve(m);
          else if (m?.type === 'error')
            reject(
              m.code === 'EADDRINUSE' && m.service
                ? new PortTakenError(m.service, m.port, m.message)
                : new Error(`Azurite could not start: ${m.message}`),
            );
        });
      }),
      exitedEarly(child, 'Azurite'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Azurite did not start within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return Object.assign(handle, {
      ports: msg.ports as RunningAzurite['ports'],
      restores: msg.restores ?? [],
    });
  } catch (err) {
    await handle.stop(2000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export const AZURITE_DIR = 'azurite';
export const azuriteLocation = (dataDir: string): string => path.join(dataDir, AZURITE_DIR);
