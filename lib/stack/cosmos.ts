/** Starts the Cosmos DB server child process (`cosmos-process.ts`) and waits for its `ready` message. */
import { PortTakenError } from './ports';
import { exitedEarly, prefixStderr, siblingEntry, spawnNode, wrapChild, type ChildHandle } from './children';

export interface CosmosOptions {
  /** Folder for the snapshot and journal; absent means in memory only. */
  dir?: string;
  host: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** @default 60000 (restoring a large store takes a while) */
  timeoutMs?: number;
}

export interface RunningCosmos extends ChildHandle {
  port: number;
  /** What the child restored at start (`RestoreStats`), when persistent. */
  restore?: unknown;
}

export async function startCosmos(opts: CosmosOptions): Promise<RunningCosmos> {
  const entry = siblingEntry('cosmos-process');
  const args = ['--host', opts.host, '--port', String(opts.port ?? 0)];
  if (opts.dir) args.push('--data-dir', opts.dir);
  else args.push('--in-memory');
  const child = spawnNode(entry.file, args, { execArgv: entry.execArgv });
  prefixStderr(child, 'cosmos');
  child.stdout!.resume();
  const handle = wrapChild('cosmos', child);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const msg = await Promise.race([
      new Promise<any>((resolve, reject) => {
        child.on('message', (m: any) => {
          if (m?.type === 'ready') resolve(m);
          else if (m?.type === 'error')
            reject(
              m.code === 'EADDRINUSE'
                ? new PortTakenError('cosmos', m.port, m.message)
                : new Error(`The Cosmos DB server could not start: ${m.message}`),
            );
        });
      }),
      exitedEarly(child, 'The Cosmos DB server'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`The Cosmos DB server did not start within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return Object.assign(handle, { port: msg.port as number, restore: msg.restore });
  } catch (err) {
    await handle.stop(2000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
