/**
 * The scenario harness: Sluice (or any function app) as a real child process on a free port, with its
 * own embedded stack and data folder.
 *
 *   const sluice = await startSluice();
 *   after(() => sluice.stop());
 *   const res = await sluice.api('/api/health');           // a fetch Response
 *   const run = await sluice.json('/api/runs', { method: 'POST', body: { pipeline: 'x' } });
 *   const blobs = BlobServiceClient.fromConnectionString(sluice.env.AzureWebJobsStorage);
 *
 * `env` holds the stack's connection settings (AzureWebJobsStorage, COSMOS_ENDPOINT, COSMOS_KEY), read
 * from `<dataDir>/stack.json`, which the stack writes once it is up; tests may use Azure clients on the
 * same stack. Set SLUICE_TEST_VERBOSE=1 to see the child's output live; it is always attached to start
 * failures and available from `output()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readStackFile, type StackFile } from '../../lib/stack';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'sluice.js');
/** Settings that would point the child at the test process's own stack; the child starts its own. */
const STACK_SETTINGS = ['AzureWebJobsStorage', 'COSMOS_ENDPOINT', 'COSMOS_KEY', 'SLUICE_DATA_DIR'];

export interface SluiceProcessOptions {
  /** Extra environment for the child (wins over the inherited one). */
  env?: Record<string, string>;
  /** Data folder; a fresh temporary one (removed by `stop()`) when absent. */
  dataDir?: string;
  /** `SLUICE_MANUAL_CLOCK=1`: time moves only through `advanceClock`. @default false */
  manualClock?: boolean;
  /** Port to listen on. @default a free port */
  port?: number;
  /** How long to wait until ready. @default 60000 */
  startTimeoutMs?: number;
  /**
   * Start the child as the leader of its own process group (as a shell starts `sluice host`), so that
   * `killGroup()` SIGKILLs it and its stack children at once. @default false
   */
  processGroup?: boolean;
}

export interface HostProcessOptions extends SluiceProcessOptions {
  /** Start the embedded stack (`false` passes `--no-stack`; give the settings in `env`). @default true */
  stack?: boolean;
  /** Ready when GET of this path answers 2xx; by default, when the host answers any HTTP request. */
  readyPath?: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    method: string,
    url: string,
  ) {
    super(`${method} ${url} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
}

/** `init` for `json()`: a non-string `body` is sent as JSON. */
export type JsonInit = Omit<RequestInit, 'body'> & { body?: unknown };

export interface SluiceProcess {
  /** `http://127.0.0.1:PORT` (no `/api`). */
  readonly baseUrl: string;
  readonly port: number;
  readonly dataDir: string;
  /** The stack's connection settings (AzureWebJobsStorage, COSMOS_ENDPOINT, COSMOS_KEY) when it runs one. */
  readonly env: Record<string, string>;
  /** The child's pid (changes on restart). */
  readonly pid: number;
  /** `<dataDir>/stack.json` of the running child: its Azurite and Cosmos pids and ports. */
  stackFile(): StackFile | undefined;
  /** fetch against the host; `path` is absolute (`/api/x`, `/runtime/...`) or relative to `/api/`. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** fetch + parse JSON; throws `HttpError` (with status and body) unless the answer is 2xx. */
  json<T = any>(path: string, init?: JsonInit): Promise<T>;
  /** Advances the manual clock (`POST /admin/host/clock/advance?ms=N`). */
  advanceClock(ms: number): Promise<void>;
  /** Sends a signal (default SIGKILL) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * `kill -9 -PGID` (needs `processGroup`): the host, Azurite and the Cosmos server die at once, as in a
   * container OOM kill; resolves once all three are gone.
   */
  killGroup(): Promise<void>;
  /** Stops (gracefully if still running) and starts again on the same port and data folder. */
  restart(): Promise<void>;
  /** Graceful stop (SIGTERM, then SIGKILL after 30 s); removes a temporary data folder. */
  stop(): Promise<void>;
  /** Everything the child wrote to stdout and stderr so far (all runs). */
  output(): string;
  /** Resolves when the output matches `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Milliseconds from spawn to ready, for the last start. */
  readonly startupMs: number;
}

/** Sluice itself: `node bin/sluice.js start --port P --data-dir D`, ready when /api/health answers 200. */
export function startSluice(opts: SluiceProcessOptions = {}): Promise<SluiceProcess> {
  return launch(
    opts,
    (port, dataDir) => ['start', '--port', String(port), '--data-dir', dataDir],
    '/api/health',
  );
}

/** Any function app: `node bin/sluice.js host --app DIR --port P --data-dir D`. */
export function startHostProcess(appDir: string, opts: HostProcessOptions = {}): Promise<SluiceProcess> {
  const app = path.resolve(appDir);
  return launch(
    opts,
    (port, dataDir) => [
      'host',
      '--app',
      app,
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      ...(opts.stack === false ? ['--no-stack'] : []),
    ],
    opts.readyPath,
  );
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function launch(
  opts: SluiceProcessOptions,
  args: (port: number, dataDir: string) => string[],
  readyPath: string | undefined,
): Promise<SluiceProcess> {
  // A port found free may be taken by another process before the child binds it (Azurite and other tests
  // pick ephemeral ports too): without an explicit port, the first start retries on a fresh one.
  let port = opts.port ?? (await freePort());
  const ownsDataDir = !opts.dataDir;
  const dataDir = opts.dataDir
    ? path.resolve(opts.dataDir)
    : fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-test-'));
  let baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of STACK_SETTINGS) delete env[k];
  Object.assign(env, opts.env);
  if (opts.manualClock) env.SLUICE_MANUAL_CLOCK = '1';
  const verbose = process.env.SLUICE_TEST_VERBOSE === '1';
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;

  let out = '';
  const waiters = new Set<() => void>();
  let child: ChildProcess | undefined;
  let stackEnv: Record<string, string> = {};
  let startupMs = 0;

  const spawnChild = async (): Promise<void> => {
    const t0 = performance.now();
    const c = spawn(process.execPath, [BIN, ...args(port, dataDir)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.processGroup ?? false,
    });
    child = c;
    const onData = (chunk: Buffer): void => {
      const s = chunk.toString();
      out += s;
      if (verbose) process.stderr.write(s);
      for (const w of waiters) w();
    };
    c.stdout!.on('data', onData);
    c.stderr!.on('data', onData);
    const exited = once(c, 'exit').then(([code, signal]) => {
      throw new Error(`the process exited before it was ready (code ${code}, signal ${signal})`);
    });
    exited.catch(() => {});
    try {
      await Promise.race([waitReady(baseUrl, readyPath, startTimeoutMs), exited]);
    } catch (err) {
      c.kill('SIGKILL');
      throw new Error(
        `${BIN} ${args(port, dataDir).join(' ')}: ${(err as Error).message}\n--- output ---\n${out}`,
      );
    }
    startupMs = Math.round(performance.now() - t0);
    const file = readStackFile(dataDir);
    stackEnv = file && file.pid === c.pid ? file.env : {};
  };

  const exitOf = async (signal: NodeJS.Signals, forceAfterMs: number): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = once(c, 'exit');
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), forceAfterMs);
    await done;
    clearTimeout(t);
  };

  const api = (p: string, init?: RequestInit): Promise<Response> =>
    fetch(`${baseUrl}${p.startsWith('/') ? p : `/api/${p}`}`, init);

  const handle: SluiceProcess = {
    get baseUrl() {
      return baseUrl;
    },
    get port() {
      return port;
    },
    dataDir,
    get env() {
      return stackEnv;
    },
    get pid() {
      return child!.pid!;
    },
    get startupMs() {
      return startupMs;
    },
    stackFile() {
      const file = readStackFile(dataDir);
      return file && file.pid === child?.pid ? file : undefined;
    },
    api,
    async json(p, init = {}) {
      const { body, ...rest } = init;
      const headers = new Headers(rest.headers);
      let payload: RequestInit['body'];
      if (body !== undefined) {
        if (typeof body === 'string' || body instanceof Uint8Array) payload = body as RequestInit['body'];
        else {
          payload = JSON.stringify(body);
          if (!headers.has('content-type')) headers.set('content-type', 'application/json');
        }
      }
      const res = await api(p, { ...rest, headers, body: payload });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      if (!res.ok) throw new HttpError(res.status, parsed, rest.method ?? 'GET', res.url);
      return parsed as any;
    },
    async advanceClock(ms) {
      const key = env.SLUICE_MASTER_KEY;
      const res = await api(`/admin/host/clock/advance?ms=${ms}`, {
        method: 'POST',
        headers: key ? { 'x-functions-key': key } : {},
      });
      if (!res.ok) throw new HttpError(res.status, await res.text(), 'POST', res.url);
      await res.body?.cancel();
    },
    async kill(signal = 'SIGKILL') {
      await exitOf(signal, 30_000);
    },
    async killGroup() {
      const c = child;
      if (!opts.processGroup)
        throw new Error('killGroup() needs startSluice/startHostProcess({ processGroup: true })');
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const file = readStackFile(dataDir);
      const pids = file && file.pid === c.pid ? [file.azurite?.pid, file.cosmos?.pid] : [];
      const done = once(c, 'exit');
      process.kill(-c.pid!, 'SIGKILL');
      await done;
      for (const pid of pids) if (pid) await waitGone(pid);
    },
    async restart() {
      await exitOf('SIGTERM', 30_000);
      await spawnChild();
    },
    async stop() {
      await exitOf('SIGTERM', 30_000);
      if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
    output: () => out,
    async waitForOutput(pattern, timeoutMs = 30_000) {
      let wake: () => void = () => {};
      const waiter = (): void => wake();
      waiters.add(waiter);
      const deadline = Date.now() + timeoutMs;
      try {
        for (;;) {
          const m = out.match(pattern);
          if (m) return m;
          if (Date.now() > deadline)
            throw new Error(`output did not match ${pattern} within ${timeoutMs} ms`);
          await Promise.race([new Promise<void>((r) => (wake = r)), sleep(200)]);
        }
      } finally {
        waiters.delete(waiter);
      }
    },
  };

  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await spawnChild();
        break;
      } catch (err) {
        if (opts.port !== undefined || attempt >= 3 || !/Port \d+ is in use/.test(out)) throw err;
        port = await freePort();
        baseUrl = `http://127.0.0.1:${port}`;
        out = '';
      }
    }
  } catch (err) {
    if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return handle;
}

async function waitGone(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} is still running`);
    await sleep(20);
  }
}

/** Polls until the server answers (2xx on `path`, or any answer at all without one). */
async function waitReady(baseUrl: string, readyPath: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}${readyPath ?? '/'}`, { signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      if (!readyPath || res.ok) return;
      last = `${res.status} ${text.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`not ready within ${timeoutMs} ms (last: ${last})`);
}
