/**
 * Real Azure Storage for host tests: the shared in-memory embedded stack (test/support/stack.ts, the
 * same Azurite + Cosmos children `sluice start` runs). `SLUICE_HOST_TEST_AZURITE=1` uses a bare
 * Azurite child instead (faster when only storage matters). Callers must call `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStack } from '../../support/stack';

export const REPO = join(__dirname, '..', '..', '..', '..');
export const BASIC_APP = join(REPO, 'test', 'fixtures', 'apps', 'basic');
export const OTHER_APP = join(REPO, 'test', 'fixtures', 'apps', 'other-app');

const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface TestStorage {
  connectionString: string;
  /** Everything the stack hands out (Cosmos settings too when the embedded stack ran). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`azurite exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`azurite did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startAzurite(): Promise<TestStorage> {
  const [blob, queue, table] = [await freePort(), await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'sluice-host-azurite-'));
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'node_modules', 'azurite', 'dist', 'src', 'azurite.js'),
      '--silent',
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--blobPort',
      String(blob),
      '--queuePort',
      String(queue),
      '--tablePort',
      String(table),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  try {
    await Promise.all([waitForPort(blob, child), waitForPort(queue, child), waitForPort(table, child)]);
  } catch (e) {
    child.kill();
    throw e;
  }
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};` +
    `BlobEndpoint=http://127.0.0.1:${blob}/${ACCOUNT};QueueEndpoint=http://127.0.0.1:${queue}/${ACCOUNT};` +
    `TableEndpoint=http://127.0.0.1:${table}/${ACCOUNT};`;
  return {
    connectionString,
    env: { AzureWebJobsStorage: connectionString },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startTestStorage(): Promise<TestStorage> {
  if (process.env.SLUICE_HOST_TEST_AZURITE === '1') return startAzurite();
  const stack = await startTestStack({ applyEnv: false });
  return { connectionString: stack.env.AzureWebJobsStorage!, env: stack.env, stop: () => stack.stop() };
}
