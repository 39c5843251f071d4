/**
 * Sluice's local Azure Functions host: runs an unchanged Functions v4 Node app folder — HTTP, timer
 * and queue triggers, hooks, the durable engine as an extension — against the embedded Azure stack
 * or real services. See lib/host/README.md for the invariants.
 *
 * `startHost` is the start-up sequence and `stop()` its reverse; the parts it wires live beside it:
 * host-env.ts (settings), app-load.ts (the app's registrations), function-table.ts (entries and
 * routes), bindings.ts (inputs and outputs), http-dispatch.ts (requests), listeners.ts (triggers).
 * A start that fails undoes what it did, in reverse order, and restores the environment.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { startEmbeddedStack, type RunningStack } from '../stack/index';
import { createDurableExtension } from '../durable/index';
import { getClock } from './clock';
import { readAppPackage, readHostJson, readLocalSettings } from './app-files';
import { loadApp, registeredFunctions } from './app-load';
import { outputWriter, wireInputs } from './bindings';
import { Registry, getProgrammingModel, installCoreApi } from './core-api';
import { buildFunctionTable } from './function-table';
import { HostEnv, applySettings, applyStackSettings, needsEmbeddedStack } from './host-env';
import { HostStartError } from './host-start-error';
import { Invoker, runAppHooks } from './invoker';
import { adminHandler } from './admin';
import { requestListener } from './http-dispatch';
import { consoleLogger, functionLogger } from './host-log';
import { printTable, stackEndpoints } from './startup-output';
import { requestBodyLimit } from './http-io';
import { appLibrary } from './app-library';
import { listenerLockSettings, type SingletonListener } from './listener-lock';
import { resolveHostId } from './host-id';
import { BlobBindings } from './blobs';
import type { BlobTriggerListener } from './blob-trigger';
import { createListeners } from './listeners';
import { QueueClients } from './queue-clients';
import { parseDuration, queueSettings } from './queue-settings';
import type { QueueListener } from './queues';
import type { HostContext, HostExtension, HostLogger, RegisteredFunction } from './types';

export interface HostOptions {
  /** The function app folder (has package.json with `main`, host.json, optional local.settings.json). */
  appDir: string;
  /** @default local.settings.json `Host.LocalHttpPort`, else 7071 (0 picks a free port) */
  port?: number;
  /** @default "127.0.0.1" */
  hostname?: string;
  /** Extra environment applied before the app loads (wins over local.settings.json). */
  env?: Record<string, string>;
  /** Extensions besides the built-in durable engine. */
  extensions?: HostExtension[];
  /** Start Azurite + Cosmos when settings do not name real services. @default true */
  embeddedStack?: boolean;
  /** Where the embedded stack keeps its data. @default `<appDir>/.sluice` */
  dataDir?: string;
  /** Throwaway in-memory data for the embedded stack (tests). @default false */
  inMemoryStack?: boolean;
  /** Include the durable engine when the app uses durable bindings. @default true */
  durable?: boolean;
  /** Where host log lines go. @default timestamped lines on stdout/stderr */
  logger?: HostLogger;
  /** How long `stop()` waits for in-flight invocations. @default 30000 */
  shutdownTimeoutMs?: number;
}

export interface RunningHost {
  baseUrl: string;
  port: number;
  functions: ReadonlyMap<string, RegisteredFunction>;
  /** Graceful stop: stop taking work, wait (bounded) for in-flight invocations, stop what was started. */
  stop(): Promise<void>;
}

export { HostStartError };
export { consoleLogger, functionLogger } from './host-log';
export { stackEndpoints } from './startup-output';

const DURABLE_TYPES = new Set(['orchestrationtrigger', 'activitytrigger', 'entitytrigger']);
const DURABLE_INPUTS = new Set(['durableclient', 'orchestrationclient']);

/** host.json `functionTimeout` in ms; undefined when absent or -1 (unbounded). */
export function functionTimeout(hostJson: Record<string, any>): number | undefined {
  const v = hostJson?.functionTimeout;
  if (v === undefined || v === null || v === -1 || v === '-1') return undefined;
  const ms = parseDuration(v, 'functionTimeout');
  return ms && ms > 0 ? ms : undefined;
}

export async function startHost(opts: HostOptions): Promise<RunningHost> {
  const log = opts.logger ?? consoleLogger();
  const appDir = resolve(opts.appDir);
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 30_000;

  // 1. Settings: local.settings.json under the process environment, explicit env on top.
  const [pkg, hostJson, localSettings] = await Promise.all([
    readAppPackage(appDir),
    readHostJson(appDir),
    readLocalSettings(appDir),
  ]);
  const env = new HostEnv();
  applySettings(env, localSettings.values, opts.env, log);

  let stack: RunningStack | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  const failStart = async (e: unknown): Promise<never> => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await stack?.stop().catch(() => {});
    env.restore();
    throw e;
  };

  try {
    // 2. The embedded stack, unless settings name real services.
    if (opts.embeddedStack !== false && needsEmbeddedStack(process.env)) {
      const dataDir = resolve(appDir, opts.dataDir ?? process.env.SLUICE_DATA_DIR ?? '.sluice');
      log.info(`Starting the embedded Azure stack (data in ${opts.inMemoryStack ? 'memory' : dataDir}) ...`);
      stack = await startEmbeddedStack({ dataDir, inMemory: opts.inMemoryStack ?? false });
      const where = stackEndpoints(stack.env);
      if (where) log.info(where);
      applyStackSettings(env, stack.env, opts.env);
    }

    // 3. The core shim, then the app.
    installCoreApi();
    const registry = new Registry();
    registry.systemLog = (level, message) => (level === 'warning' ? log.warn(message) : log.error(message));
    await loadApp(appDir, pkg.entryFiles, pkg.esm, registry);
    const pm = getProgrammingModel();
    if (registry.functions.size === 0)
      log.warn(
        `No functions were registered by ${pkg.main}. Does the app use @azure/functions v4 (app.http(...), app.timer(...))?`,
      );

    const functions = registeredFunctions(registry);

    // 4. Extensions: the durable engine when the app uses durable bindings.
    const extensions: HostExtension[] = [...(opts.extensions ?? [])];
    const usesDurable = [...functions.values()].some((f) =>
      Object.values(f.bindings).some(
        (b) => DURABLE_TYPES.has(b.type.toLowerCase()) || DURABLE_INPUTS.has(b.type.toLowerCase()),
      ),
    );
    if (usesDurable && opts.durable !== false && !extensions.some((e) => e.name === 'durable'))
      extensions.push(createDurableExtension({}));
    const extensionTriggers = new Map<string, HostExtension>();
    for (const e of extensions) for (const t of e.triggerTypes) extensionTriggers.set(t.toLowerCase(), e);

    // 5. Per-function setup: routes, timers, queues, outputs.
    const prefix = String(hostJson?.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
    const qSettings = queueSettings(hostJson);
    const queueClients = new QueueClients();
    // Filled once the listeners are built (step 7); the admin API reads the timers' lease states.
    const timers: SingletonListener[] = [];
    const queues: QueueListener[] = [];
    const blobTriggers: BlobTriggerListener[] = [];
    const functionKey = process.env.SLUICE_FUNCTION_KEY || undefined;
    const masterKey = process.env.SLUICE_MASTER_KEY || undefined;
    const { entries, routes, disabled } = buildFunctionTable({
      functions,
      registry,
      prefix,
      functionKey,
      masterKey,
      log,
    });

    const blobs = new BlobBindings();
    const invoker = new Invoker(
      registry,
      () => {
        const m = getProgrammingModel() ?? pm;
        if (!m) throw new Error('The app did not set a programming model; is @azure/functions v4 installed?');
        return m;
      },
      functionLogger(log, hostJson),
      outputWriter(blobs, queueClients, qSettings, log),
    );
    invoker.timeoutMs = functionTimeout(hostJson);
    const library = appLibrary(appDir);

    // The app's identity in storage (timer leases and status), and how timer leases are held.
    let hostId: string;
    let lockSettings: ReturnType<typeof listenerLockSettings>;
    let bodyLimit: number;
    try {
      hostId = resolveHostId(pkg.name);
      lockSettings = listenerLockSettings(hostJson);
      bodyLimit = requestBodyLimit();
    } catch (e) {
      throw new HostStartError((e as Error).message);
    }

    // 6. Serve.
    type State = 'starting' | 'running' | 'stopping' | 'stopped';
    let state: State = 'starting';
    let baseUrl = '';
    const clock = getClock();

    const handleAdmin = adminHandler({
      state: () => state,
      functions,
      entries,
      extensionTriggers,
      invoker,
      masterKey,
      clock,
      waitLimitMs: shutdownTimeoutMs,
      hostId,
      timers: () => Object.fromEntries(timers.map((t) => [t.functionName, t.state])),
    });

    const onRequest = requestListener({
      state: () => state,
      baseUrl: () => baseUrl,
      prefix,
      routes,
      invoker,
      registry,
      functionKey,
      masterKey,
      extensions,
      handleAdmin,
      library,
      bodyLimit,
      cors: localSettings.cors
        ? { origins: localSettings.cors, credentials: localSettings.corsCredentials ?? false }
        : undefined,
      log,
    });

    const server: Server = createServer({ keepAliveTimeout: 5000 }, (req, res) => void onRequest(req, res));
    const port = opts.port ?? localSettings.localHttpPort ?? 7071;
    const hostname = opts.hostname ?? '127.0.0.1';
    await new Promise<void>((ok, fail) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        fail(
          e.code === 'EADDRINUSE'
            ? new HostStartError(`Port ${port} is in use; pass --port N (0 picks a free port).`)
            : e,
        ),
      );
      server.listen(port, hostname, () => ok());
    });
    cleanups.push(() => new Promise((r) => server.close(r)).then(() => server.closeAllConnections()));
    const actualPort = (server.address() as AddressInfo).port;
    baseUrl = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${actualPort}`;
    // durable-functions rewrites client URLs to localhost:7071 unless told the public address.
    if (!process.env.WEBSITE_HOSTNAME || /0\.0\.0\.0/.test(process.env.WEBSITE_HOSTNAME))
      env.set('WEBSITE_HOSTNAME', `${hostname === '0.0.0.0' ? '127.0.0.1' : hostname}:${actualPort}`);

    printTable(log, functions.values(), baseUrl, prefix, disabled);

    // 7. appStart hooks, extensions, triggers.
    await runAppHooks(registry, 'appStart', invoker.appHookData, appDir);
    const hostContext: HostContext = {
      functions,
      invoke: (name, triggerValue, o) => {
        const entry = entries.get(name);
        if (!entry) return Promise.reject(new Error(`No function named "${name}" is registered.`));
        const p = invoker.invoke(entry, { value: triggerValue, triggerMetadata: o?.triggerMetadata });
        const signal = o?.signal;
        if (!signal) return p;
        // JS cannot stop the handler; the caller just stops waiting for it.
        return new Promise((resolve, reject) => {
          const onAbort = (): void => reject(signal.reason ?? new Error('The invocation wait was aborted.'));
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
        });
      },
      hostJson,
      appDir,
      baseUrl,
      storageConnectionString: process.env.AzureWebJobsStorage ?? '',
      log,
    };
    const started: HostExtension[] = [];
    for (const e of extensions) {
      await e.start(hostContext);
      started.push(e);
      cleanups.push(() => e.stop());
    }
    wireInputs(entries.values(), started, blobs, log);

    const startupErrors: string[] = [];
    const listeners = createListeners({
      entries,
      disabled,
      extensionTriggers,
      invoker,
      log,
      clock,
      hostId,
      lockSettings,
      hostJson,
      queueSettings: qSettings,
      queueClients,
      blobs,
      startupErrors,
    });
    timers.push(...listeners.timers);
    queues.push(...listeners.queues);
    blobTriggers.push(...listeners.blobTriggers);
    if (startupErrors.length) throw new HostStartError(startupErrors.join('\n'));
    if (timers.length && !listeners.locks)
      log.warn(
        'AzureWebJobsStorage is not set: timer functions run on every host of this app, not on one (no listener leases).',
      );
    for (const q of queues) {
      await q.start();
      cleanups.push(() => q.stop());
    }
    for (const t of timers) {
      await t.start();
      cleanups.push(() => t.stop());
    }
    for (const b of blobTriggers) {
      b.start();
      cleanups.push(() => b.stop());
    }
    state = 'running';
    log.info(`Host started: ${baseUrl} (${functions.size} functions${stack ? ', embedded stack' : ''}).`);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        state = 'stopping';
        log.info('Host stopping: no new work; waiting for running invocations ...');
        await Promise.all([
          ...timers.map((t) => t.stop()),
          ...queues.map((q) => q.stop()),
          ...blobTriggers.map((b) => b.stop()),
        ]);
        for (const e of [...started].reverse())
          await e
            .stop()
            .catch((x) => log.error(`Extension '${e.name}' failed to stop: ${(x as Error).message}`));
        const left = await invoker.drain(shutdownTimeoutMs);
        if (left)
          log.warn(`${left} invocation(s) still running after ${shutdownTimeoutMs} ms; stopping anyway.`);
        await Promise.all(queues.map((q) => q.settle()));
        await runAppHooks(registry, 'appTerminate', invoker.appHookData, appDir).catch((x) =>
          log.error(`appTerminate hook failed: ${(x as Error).message}`),
        );
        state = 'stopped';
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeIdleConnections();
          // Streams that never end (log tails) would hold close() forever.
          setTimeout(() => server.closeAllConnections(), 1000).unref();
        });
        if (stack)
          await stack
            .stop()
            .catch((x) => log.error(`Embedded stack failed to stop: ${(x as Error).message}`));
        env.restore();
        log.info('Host stopped.');
      })());

    return { baseUrl, port: actualPort, functions, stop };
  } catch (e) {
    return failStart(e);
  }
}
