/**
 * Scenario harness for the durable engine: a bare Azurite child (lib/stack/azurite) and the real host
 * (lib/host startHost) running the fixture app in test/fixtures/apps/durable, with durable-functions'
 * own DurableClient pointed at it. Every helper stops what it started.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { DurableClient } from 'durable-functions';
import { before, after } from 'node:test';
import { startAzurite, type RunningAzurite } from '../../../lib/stack/azurite';
import { azuriteConnectionString } from '../../../lib/stack/index';
import { startHost, type RunningHost } from '../../../lib/host/index';
import type { HostLogger } from '../../../lib/host/types';
import { clientInputData, createDurableExtension, type DurableExtension } from '../../../lib/durable/index';
import type { DurableEngine } from '../../../lib/durable/engine';

/** durable-functions' own client class (the public API only builds it from an invocation context). */
const { DurableClient: DurableClientImpl } = createRequire(__filename)(
  'durable-functions/lib/src/durableClient/DurableClient',
) as { DurableClient: new (data: unknown) => DurableClient };

export function durableClient(baseUrl: string, hub = HUB): DurableClient {
  return new DurableClientImpl(clientInputData(baseUrl, hub));
}

export const REPO = path.resolve(__dirname, '..', '..', '..', '..');
export const DURABLE_APP = path.join(REPO, 'test', 'fixtures', 'apps', 'durable');
export const HUB = 'FixtureHub';
/** Durable apps written the way Microsoft's samples are (callHttp polling, Counter, bank transfer). */
export const SAMPLES_APP = path.join(REPO, 'test', 'fixtures', 'apps', 'durable-samples');
export const SAMPLES_HUB = 'SamplesHub';

export interface TestAzurite {
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  location: string | undefined;
  /** Stops the emulator and removes its data. */
  stop(): Promise<void>;
  /** Stops the emulator, keeping its data (persistent only) for `restart()`. */
  halt(): Promise<void>;
  /** Starts it again on the same ports and folder. */
  restart(): Promise<void>;
}

/** Azurite on free ports; `persistent` keeps data in a temp folder so a restart keeps it. */
export async function startTestAzurite(opts: { persistent?: boolean } = {}): Promise<TestAzurite> {
  const location = opts.persistent
    ? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-durable-azurite-'))
    : undefined;
  let child: RunningAzurite = await startAzurite({ inMemory: !location, location, host: '127.0.0.1' });
  const ports = child.ports;
  const self: TestAzurite = {
    connectionString: azuriteConnectionString('127.0.0.1', ports),
    ports,
    location,
    async stop() {
      await child.stop(5000);
    },
    async halt() {
      await child.stop(5000);
    },
    async restart() {
      child = await startAzurite({ inMemory: !location, location, host: '127.0.0.1', ports });
    },
  };
  const origStop = self.stop;
  self.stop = async () => {
    await origStop();
    if (location) fs.rmSync(location, { recursive: true, force: true });
  };
  return self;
}

export interface CapturedLog {
  lines: string[];
  logger: HostLogger;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const push = (level: string) => (m: string) => {
    lines.push(`${level} ${m}`);
    if (process.env.SLUICE_TEST_VERBOSE === '1') process.stderr.write(`${level} ${m}\n`);
  };
  return { lines, logger: { info: push('INFO'), warn: push('WARN'), error: push('ERROR') } };
}

export interface DurableTestHost {
  host: RunningHost;
  extension: DurableExtension;
  engine: DurableEngine;
  client: DurableClient;
  log: CapturedLog;
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startDurableHost(
  storage: { connectionString: string },
  opts: { env?: Record<string, string>; port?: number; appDir?: string; hub?: string } = {},
): Promise<DurableTestHost> {
  const log = captureLog();
  const extension = createDurableExtension();
  const host = await startHost({
    appDir: opts.appDir ?? DURABLE_APP,
    port: opts.port ?? 0,
    embeddedStack: false,
    logger: log.logger,
    shutdownTimeoutMs: 10_000,
    extensions: [extension],
    env: { AzureWebJobsStorage: storage.connectionString, ...(opts.env ?? {}) },
  });
  const client = durableClient(host.baseUrl, opts.hub ?? (opts.appDir === SAMPLES_APP ? SAMPLES_HUB : HUB));
  return {
    host,
    extension,
    engine: extension.engine!,
    client,
    log,
    baseUrl: host.baseUrl,
    stop: () => host.stop(),
  };
}

const FINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

/** Polls the client until the instance is finished (bounded; not a timing assertion). */
export async function waitForFinish(client: DurableClient, id: string, timeoutMs = 30_000): Promise<any> {
  return waitForStatus(client, id, (s) => FINAL.has(s.runtimeStatus), timeoutMs, 'a final status');
}

export async function waitForStatus(
  client: DurableClient,
  id: string,
  pred: (s: any) => boolean,
  timeoutMs = 30_000,
  what = 'the expected status',
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
    if (pred(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`instance ${id}: gave up waiting for ${what}; last: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function tempLogFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-durable-log-')), 'activities.log');
}

export function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The usual set-up of a durable scenario file: an in-memory Azurite and a host running the durable fixture
 * app, started before the file's tests and stopped after them. The returned handle reads through to the
 * running host (`h.client`, `h.engine`, …).
 */
export function useDurableHost(opts: { env?: Record<string, string> } = {}): DurableTestHost {
  let storage: TestAzurite | undefined;
  let running: DurableTestHost | undefined;
  before(async () => {
    storage = await startTestAzurite();
    running = await startDurableHost(storage, opts);
  });
  after(async () => {
    await running?.stop();
    await storage?.stop();
  });
  return new Proxy({} as DurableTestHost, {
    get(_target, key) {
      if (!running) throw new Error('the durable host is not started yet (use it inside a test)');
      return running[key as keyof DurableTestHost];
    },
  });
}
