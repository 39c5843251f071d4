import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { startHost, type RunningHost } from '../../host/index';

/** The Sluice repository (or installed package) root: the nearest package.json named `sluice`. */
export function sluiceRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'sluice') return dir;
    } catch {
      // keep looking upwards
    }
    if (path.dirname(dir) === dir) throw new Error(`Cannot find Sluice's package.json above ${from}`);
  }
}

interface LocalAgent {
  stop?: () => Promise<void> | void;
}

/**
 * Starts the local compute agent for pool `local` when lib/compute/agent exists (it is optional while
 * the compute module is built). A failing agent is reported, not fatal: the API still serves.
 */
async function startLocalAgent(baseUrl: string, dataDir: string): Promise<LocalAgent | undefined> {
  const file = path.join(__dirname, '..', '..', 'compute', 'agent.js');
  if (!fs.existsSync(file)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as {
    startAgent?: (opts: Record<string, unknown>) => Promise<LocalAgent> | LocalAgent;
    defaultConcurrency?: (env: NodeJS.ProcessEnv, fallback: number) => number;
    LOCAL_AGENT_CONCURRENCY?: number;
  };
  if (typeof mod.startAgent !== 'function') return undefined;
  // Local steps are mostly short and I/O-bound, and `maxConcurrency` must mean something under
  // `npm start`: 8 at once unless SLUICE_AGENT_CONCURRENCY says otherwise (remote agents keep 4).
  const fallback = mod.LOCAL_AGENT_CONCURRENCY ?? 8;
  const concurrency = mod.defaultConcurrency?.(process.env, fallback) ?? fallback;
  try {
    return await mod.startAgent({
      pool: 'local',
      concurrency,
      endpoint: baseUrl,
      workDir: path.join(dataDir, 'agent'),
      key: process.env.SLUICE_MASTER_KEY || process.env.SLUICE_FUNCTION_KEY || undefined,
    });
  } catch (err) {
    process.stderr.write(`sluice start: the local compute agent did not start: ${(err as Error).message}\n`);
    return undefined;
  }
}

export interface StartOptions {
  /** @default 7071 */
  port: number;
  /** @default `<repo>/.sluice` */
  dataDir?: string;
  hostname?: string;
}

/** Runs Sluice locally: embedded stack, host with every Sluice function, local agent. */
export async function startSluice(o: StartOptions): Promise<{ host: RunningHost; stop(): Promise<void> }> {
  const root = sluiceRoot();
  const dataDir = path.resolve(o.dataDir ?? process.env.SLUICE_DATA_DIR ?? path.join(root, '.sluice'));
  const host = await startHost({ appDir: root, port: o.port, dataDir, hostname: o.hostname ?? '127.0.0.1' });
  const agent = await startLocalAgent(host.baseUrl, dataDir);
  const api = `${host.baseUrl}/api`;
  process.stdout.write(
    [
      '',
      `Sluice is running (data in ${dataDir})`,
      `  API        ${api}`,
      `  Health     ${api}/health`,
      `  Dashboard  ${api}/dashboard`,
      `  Agent      ${agent ? 'pool "local"' : 'not started (no local agent available)'}`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  let stopped: Promise<void> | undefined;
  return {
    host,
    stop() {
      stopped ??= (async () => {
        try {
          await agent?.stop?.();
        } finally {
          await host.stop();
        }
      })();
      return stopped;
    },
  };
}

/** `sluice start`: Sluice itself on this machine, with the stack it needs. */
export function register(program: Command): void {
  program
    .command('start')
    .description('Run Sluice locally: embedded Azure stack, the function app and a local compute agent')
    .option('--port <n>', 'port for the API (0 picks a free one)', '7071')
    .option('--data-dir <dir>', 'where local data is kept (default <sluice>/.sluice, env SLUICE_DATA_DIR)')
    .option('--hostname <host>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: string; dataDir?: string; hostname: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port must be a whole number from 0 to 65535 (got "${o.port}").`);
      const running = await startSluice({ port, dataDir: o.dataDir, hostname: o.hostname });
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals): void => {
          if (++signals > 1) {
            process.stderr.write(`sluice start: second ${sig}; exiting without waiting.\n`);
            process.exit(130);
          }
          process.stdout.write(`sluice start: ${sig} received; stopping (Ctrl+C again to force) ...\n`);
          running.stop().then(resolve, (e: unknown) => {
            process.stderr.write(`sluice start: stop failed: ${(e as Error).message}\n`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });
}
