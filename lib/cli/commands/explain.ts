import type { Command } from 'commander';
import { ApiClient } from '../api-client';
import { explainStep, type RunView } from '../../runs/watch';

/** `sluice explain RUN STEP`: why a step ran (which cache key components changed) or which run it reused. */
export function register(program: Command): void {
  program
    .command('explain')
    .description('Explain why a step ran, or which earlier run it reused')
    .argument('<run>', 'run id')
    .argument('<step>', 'step name')
    .option('--json', 'print the step record as JSON')
    .action(async (runId: string, stepName: string, opts: { json?: boolean }, c: Command) => {
      const client = ApiClient.fromCommand(c);
      const run = await client.json<RunView>(`/runs/${encodeURIComponent(runId)}`);
      const s = run.steps.find((x) => x.name === stepName);
      if (!s)
        throw new Error(
          `run ${runId} has no step "${stepName}"; its steps are ${run.steps.map((x) => x.name).join(', ')}`,
        );
      process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + '\n' : explainStep(run, s));
    });
}
