import type { Command } from 'commander';
import { machineCapacity } from '../../compute/admission';
import { defaultConcurrency, startAgent } from '../../compute/agent';
import { CredentialSource } from '../../compute/scoped-clients';
import { isValidPool } from '../../compute/targets';

/**
 * `sluice agent --pool NAME [--concurrency N]`: runs a compute agent for a pool on this machine. It needs
 * the storage account (setting AzureWebJobsStorage); with --endpoint / SLUICE_ENDPOINT it also raises
 * completion events on the orchestration for lower latency.
 */
export function register(program: Command): void {
  program
    .command('agent')
    .description('run a compute agent that takes jobs from the pool queue sluice-jobs-<pool>')
    .requiredOption('--pool <name>', 'pool to serve (lowercase letters, digits, hyphens)')
    .option(
      '--concurrency <n>',
      'a cap on jobs run at once (env SLUICE_AGENT_CONCURRENCY; default: by resources)',
    )
    .option('--cpus <n>', "CPUs this agent offers to jobs (default: the machine's)")
    .option('--memory-gb <n>', "memory (GB) this agent offers to jobs (default: the machine's)")
    .option('--gpus <n>', 'GPUs this agent offers to jobs', '0')
    .option(
      '--work-dir <dir>',
      'where job working directories are made (default: <tmp>/sluice-agents/<pool>)',
    )
    .option('--agent-id <id>', 'name of this agent in job rows (default: <hostname>-<pid>-<random>)')
    .option('--heartbeat-ms <ms>', 'heartbeat interval', '2000')
    .action(
      async (
        o: {
          pool: string;
          concurrency?: string;
          cpus?: string;
          memoryGb?: string;
          gpus: string;
          workDir?: string;
          agentId?: string;
          heartbeatMs: string;
        },
        cmd: Command,
      ) => {
        if (!isValidPool(o.pool))
          throw new Error(
            `--pool "${o.pool}" is not a valid pool name: use lowercase letters, digits and single hyphens (it names the queue sluice-jobs-<pool>).`,
          );
        const concurrency = o.concurrency === undefined ? defaultConcurrency() : Number(o.concurrency);
        if (o.concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
          throw new Error(`--concurrency must be a whole number ≥ 1, not "${o.concurrency}".`);
        const machine = machineCapacity(Number(o.gpus));
        const capacity = {
          cpu: o.cpus === undefined ? machine.cpu : Number(o.cpus),
          memoryGb: o.memoryGb === undefined ? machine.memoryGb : Number(o.memoryGb),
          gpu: Number(o.gpus),
        };
        for (const [flag, v] of [
          ['--cpus', capacity.cpu],
          ['--memory-gb', capacity.memoryGb],
          ['--gpus', capacity.gpu],
        ] as const)
          if (!Number.isFinite(v) || v < 0) throw new Error(`${flag} must be a number ≥ 0.`);
        const heartbeatMs = Number(o.heartbeatMs);
        if (!Number.isFinite(heartbeatMs) || heartbeatMs < 50)
          throw new Error(`--heartbeat-ms must be a number ≥ 50, not "${o.heartbeatMs}".`);
        let root: Command = cmd;
        while (root.parent) root = root.parent;
        const g = root.opts() as { endpoint?: string; key?: string };
        // An agent key (sak.…): no account key here; scoped credentials from the service, renewed.
        let refusedWith: Error | undefined;
        let onRefused: () => void = () => {};
        const credentials =
          g.key?.startsWith('sak.') && g.endpoint
            ? new CredentialSource({
                endpoint: g.endpoint,
                key: g.key,
                pool: o.pool,
                log: (line) => console.error(`sluice agent: ${line}`),
                onRefused: (e) => {
                  refusedWith = e;
                  console.error(`sluice agent: ${e.message}. This agent takes no more jobs and stops.`);
                  onRefused();
                },
              })
            : undefined;
        if (credentials) await credentials.start();
        else if (!process.env.AzureWebJobsStorage)
          console.error(
            'sluice agent: AzureWebJobsStorage is not set; using the local development storage emulator.',
          );
        const agent = startAgent({
          ...(credentials ? { credentials } : {}),
          pool: o.pool,
          concurrency,
          capacity,
          heartbeatMs,
          ...(o.workDir ? { workDir: o.workDir } : {}),
          ...(o.agentId ? { agentId: o.agentId } : {}),
          ...(g.endpoint ? { endpoint: g.endpoint } : {}),
          ...(g.key ? { key: g.key } : {}),
        });
        await agent.ready;
        console.log(
          `agent ${agent.agentId} serving pool ${o.pool}${credentials ? ' with scoped credentials' : ''} (${capacity.cpu} CPUs, ${capacity.memoryGb} GB, ${capacity.gpu} GPUs` +
            `${Number.isFinite(concurrency) ? `, at most ${concurrency} jobs` : ''})`,
        );
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            console.log(`agent ${agent.agentId} stopping`);
            void agent.stop().then(resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
          onRefused = stop;
        });
        if (refusedWith) process.exitCode = 3;
      },
    );
}
