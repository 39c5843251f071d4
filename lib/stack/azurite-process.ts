/**
 * Entry point of the Azurite child process (`node dist/lib/stack/azurite-process.js <Azurite's args>`).
 *
 * It runs Azurite's own entry (`azurite/dist/src/azurite.js`, the `azurite` command) after hooking the
 * LokiJS that Azurite's metadata stores use, so that every change is journaled before its response
 * (`loki-journal.ts`), and Azurite's `ServerBase#start`, to learn when and where the three services listen.
 * Protocol with the parent (IPC channel):
 *   child → parent  `{ type: 'ready', ports: { blob, queue, table }, restores }` once all three listen,
 *                   `{ type: 'error', message, code?, service?, port? }` when it cannot start.
 * When the IPC channel closes (the parent exited, crashed or was SIGKILLed) Azurite shuts down as on
 * SIGTERM: it closes its services, and closing its stores folds each journal into its database file.
 *
 * Arguments are Azurite's (`--blobHost H --blobPort P … --location D` or `--inMemoryPersistence`).
 */
import Module from 'node:module';
import path from 'node:path';
import { acquireDirLock } from './dir-lock';
import { LokiJournals } from './loki-journal';
import type { LokiModule } from './loki-shape';

/* eslint-disable @typescript-eslint/no-require-imports */
export type AzuriteService = 'blob' | 'queue' | 'table';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function send(msg: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, () => resolve());
  });
}

/** Reports a start failure to the parent, then exits. */
async function fail(msg: {
  message: string;
  code?: string;
  service?: AzuriteService;
  port?: number;
}): Promise<never> {
  process.stderr.write(`${msg.message}\n`);
  await Promise.race([send({ type: 'error', ...msg }), new Promise((r) => setTimeout(r, 2000))]);
  // Let the parent read the message before it sees us exit.
  setTimeout(() => process.exit(1), 200);
  return new Promise<never>(() => {});
}

/** The Azurite modules the hooks reach into; checked so that a new Azurite fails clearly, not silently. */
function azuriteInternals(): {
  root: string;
  ServerBase: { prototype: Record<string, any> };
  services: Array<[AzuriteService, any]>;
  dbFiles: string[];
} {
  const root = path.dirname(require.resolve('azurite/package.json'));
  const load = (p: string): any => require(path.join(root, 'dist', 'src', p));
  const ServerBase = load('common/ServerBase').default;
  const services: Array<[AzuriteService, any]> = [
    ['blob', load('blob/BlobServer').default],
    ['queue', load('queue/QueueServer').default],
    ['table', load('table/TableServer').default],
  ];
  const blob = load('blob/utils/constants');
  const queue = load('queue/utils/constants');
  const table = load('table/utils/constants');
  const dbFiles = [
    blob.DEFAULT_BLOB_LOKI_DB_PATH,
    blob.DEFAULT_BLOB_EXTENT_LOKI_DB_PATH,
    queue.DEFAULT_QUEUE_LOKI_DB_PATH,
    queue.DEFAULT_QUEUE_EXTENT_LOKI_DB_PATH,
    table.DEFAULT_TABLE_LOKI_DB_PATH,
  ];
  const ok =
    typeof ServerBase?.prototype?.start === 'function' &&
    services.every(([, s]) => typeof s === 'function' && s.prototype.start === ServerBase.prototype.start) &&
    dbFiles.every((f) => typeof f === 'string' && f.endsWith('.json'));
  if (!ok)
    throw new Error(
      'The Azurite child cannot hook Azurite: its internals (common/ServerBase, {blob,queue,table}Server, ' +
        'utils/constants) changed shape. Pin azurite to ~3.37.0 or update lib/stack/azurite-process.ts.',
    );
  return { root, ServerBase, services, dbFiles };
}

/**
 * Azurite loads Application Insights for its telemetry even when `--disableTelemetry` (which we always
 * pass) turns it off: 2–3 s of every start on a loaded machine, most of Azurite's start-up. An empty
 * module stands in for it; with telemetry off Azurite never touches it.
 */
function skipTelemetryModule(root: string): void {
  if (!process.argv.includes('--disableTelemetry')) return;
  const id = require.resolve('applicationinsights', { paths: [path.join(root, 'dist', 'src', 'common')] });
  const stub = new Module(id);
  stub.filename = id;
  stub.loaded = true;
  stub.exports = {};
  require.cache[id] = stub;
}

async function main(): Promise<void> {
  // After the parent died our pipes are broken; an EPIPE must not stop the shutdown that saves data.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const location = arg('--location');
  const inMemory = process.argv.includes('--inMemoryPersistence') || !location;

  // The parent may die while we wait for the data folder: leave then, rather than start as an orphan.
  const leave = (): never => process.exit(0);
  process.on('disconnect', leave);
  if (!inMemory) await acquireDirLock(location!, 'azurite-process');

  skipTelemetryModule(path.dirname(require.resolve('azurite/package.json')));
  const az = azuriteInternals();
  let journals: LokiJournals | undefined;
  if (!inMemory) {
    const loki = require(require.resolve('lokijs', { paths: [az.root] })) as LokiModule;
    journals = new LokiJournals(loki, {
      fsyncIntervalMs: Number(process.env.SLUICE_STORAGE_FSYNC_MS || 100),
      log: (m) => void process.stderr.write(`${m}\n`),
    });
    journals.install();
  }

  const ports: Partial<Record<AzuriteService, number>> = {};
  const start = az.ServerBase.prototype.start as (this: any) => Promise<void>;
  az.ServerBase.prototype.start = async function (this: any): Promise<void> {
    const service = az.services.find(([, cls]) => this instanceof cls)?.[0];
    try {
      await start.call(this);
    } catch (e: any) {
      await fail({
        message: `Azurite ${service ?? ''} service could not listen on ${this.host}:${this.port}: ${e?.message}`,
        code: e?.code,
        service,
        port: Number(this.port),
      });
    }
    if (!service) return;
    ports[service] = this.httpServer.address()?.port;
    if (ports.blob && ports.queue && ports.table) {
      try {
        journals?.verify(az.dbFiles.map((f) => path.join(location!, f)));
      } catch (e) {
        await fail({ message: (e as Error).message });
      }
      await send({ type: 'ready', ports, restores: journals?.restores() ?? [] });
    }
  };

  // Azurite shuts down on SIGTERM: closing its services closes (and so compacts) its stores.
  process.off('disconnect', leave);
  process.on('disconnect', () => {
    console.log = console.error = console.warn = console.info = () => {};
    process.kill(process.pid, 'SIGTERM');
    // Azurite exits on its own once closed; do not linger if it cannot.
    setTimeout(() => process.exit(0), 10_000).unref();
  });
  process.channel?.unref();
  require(path.join(az.root, 'dist', 'src', 'azurite.js'));
}

main().catch((err: Error) => fail({ message: `Azurite could not start: ${err.message}` }));
