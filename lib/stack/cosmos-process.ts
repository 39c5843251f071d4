/**
 * Entry point of the Cosmos DB server child process (`node dist/lib/stack/cosmos-process.js`).
 *
 * It runs in its own process so that a slow or crashed Cosmos server never stalls the host's event loop,
 * and so it can be killed and restarted on its own. Protocol with the parent (IPC channel):
 *   child → parent  `{ type: 'ready', port, restore }` once restored and listening,
 *                   `{ type: 'error', message }` when it cannot start.
 *   parent → child  `'shutdown'` (or SIGTERM/SIGINT): stop serving, write the snapshot, exit 0.
 * When the IPC channel closes (the parent died, even by SIGKILL) the child shuts down the same way, so
 * no orphan keeps the port or the data folder.
 *
 * Arguments: `--host H --port P [--data-dir D | --in-memory]` (port 0 picks a free one).
 */
import type { Server, Socket } from 'node:net';
import { createHttpServer } from '@vercel/cosmosdb-server';
import { CosmosPersistence } from './cosmos-persistence';
import { acquireDirLock } from './dir-lock';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function send(msg: unknown): void {
  if (process.send && process.connected) process.send(msg);
}

async function main(): Promise<void> {
  // After the parent died our pipes are broken; an EPIPE must not stop the shutdown that saves data.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const host = arg('--host') ?? '127.0.0.1';
  const port = Number(arg('--port') ?? 0);
  const dataDir = arg('--data-dir');
  const inMemory = process.argv.includes('--in-memory') || !dataDir;
  const log = (m: string): void => void process.stderr.write(`${m}\n`);

  let release: (() => void) | undefined;
  let persistence: CosmosPersistence | undefined;
  // The parent may die while we wait for the data folder's lock or restore: leave then, before serving,
  // rather than becoming an orphan that holds the folder.
  const exitIfOrphaned = (): void => {
    release?.();
    process.exit(0);
  };
  process.on('disconnect', exitIfOrphaned);
  if (!inMemory) {
    release = await acquireDirLock(dataDir!, 'cosmos-process');
    persistence = new CosmosPersistence({
      dir: dataDir!,
      fsyncIntervalMs: Number(process.env.SLUICE_COSMOS_FSYNC_MS || 100),
      log,
    });
    persistence.install();
  }

  const server: Server = createHttpServer({ keepAlive: true });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let restore: unknown;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      // The server created its account in its own `listening` listener, which ran before this one.
      try {
        if (persistence) restore = persistence.restore();
        resolve();
      } catch (err) {
        reject(err);
      }
    });
  });

  let stopping = false;
  const shutdown = (code = 0): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    for (const s of sockets) s.destroy();
    try {
      persistence?.close();
    } catch (err) {
      log(`cosmos: writing the snapshot at shutdown failed: ${(err as Error).message}`);
      code = 1;
    }
    release?.();
    process.exit(code);
  };
  process.on('SIGTERM', () => shutdown());
  process.on('SIGINT', () => shutdown());
  process.on('message', (m) => m === 'shutdown' && shutdown());
  process.off('disconnect', exitIfOrphaned);
  process.on('disconnect', () => shutdown());
  if (process.send && !process.connected) shutdown();
  // The IPC channel must not keep us alive on its own; the server does.
  process.channel?.unref();

  const addr = server.address();
  send({ type: 'ready', port: typeof addr === 'object' && addr ? addr.port : port, restore });
}

main().catch((err: NodeJS.ErrnoException) => {
  send({ type: 'error', message: err.message, code: err.code, port: Number(arg('--port') ?? 0) });
  process.stderr.write(`cosmos: ${err.message}\n`);
  // Let the parent read the message before it sees us exit.
  setTimeout(() => process.exit(1), 200);
});
