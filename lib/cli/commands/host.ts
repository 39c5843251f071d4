import type { Command } from 'commander';
import { startHost } from '../../host/index';

/** `sluice host --app DIR`: runs any Azure Functions v4 Node app folder, like `func start`. */
export function register(program: Command): void {
  program
    .command('host')
    .description(
      'Run an Azure Functions v4 Node app folder locally (HTTP, timer, queue, durable), like `func start`',
    )
    .option('--app <dir>', 'the function app folder (package.json "main", host.json)', '.')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '7071')
    .option('--hostname <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where the embedded stack keeps its data (default <app>/.sluice)')
    .option('--no-stack', 'do not start the embedded Azure stack; use the settings as they are')
    .option('--shutdown-timeout <ms>', 'how long a stop waits for running invocations', '30000')
    .action(
      async (o: {
        app: string;
        port?: string;
        hostname: string;
        dataDir?: string;
        stack: boolean;
        shutdownTimeout: string;
      }) => {
        const port = o.port === undefined ? undefined : Number(o.port);
        if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
          throw new Error(`--port must be a whole number from 0 to 65535 (got "${o.port}").`);
        const shutdownTimeoutMs = Number(o.shutdownTimeout);
        if (!Number.isFinite(shutdownTimeoutMs) || shutdownTimeoutMs < 0)
          throw new Error(
            `--shutdown-timeout must be a number of milliseconds (got "${o.shutdownTimeout}").`,
          );
        const host = await startHost({
          appDir: o.app,
          port,
          hostname: o.hostname,
          embeddedStack: o.stack,
          shutdownTimeoutMs,
          ...(o.dataDir ? { dataDir: o.dataDir } : {}),
        });
        // An app's stray promise rejection is reported, not fatal: the host keeps serving the other work.
        process.on('unhandledRejection', (reason) => {
          process.stderr.write(
            `[${new Date().toISOString()}] ERROR Unhandled promise rejection in the app: ${(reason as Error)?.stack ?? String(reason)}\n`,
          );
        });
        await new Promise<void>((resolve) => {
          let signals = 0;
          const onSignal = (sig: NodeJS.Signals): void => {
            if (++signals > 1) {
              process.stderr.write(`sluice host: second ${sig}; exiting without waiting.\n`);
              process.exit(130);
            }
            host.stop().then(resolve, (e: unknown) => {
              process.stderr.write(`sluice host: stop failed: ${(e as Error).message}\n`);
              process.exitCode = 1;
              resolve();
            });
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
        });
      },
    );
}
