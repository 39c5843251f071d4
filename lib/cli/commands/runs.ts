import type { Command } from 'commander';
import { ApiClient } from '../api-client';
import { describeStep, watchRun, type RunView } from '../../runs/watch';
import { formatTable as table } from '../table';
import { formatLeaderboard } from '../../automl/leaderboard';
import type { LeaderboardRow } from '../../runs/store';

/** `sluice runs list|show|logs [-f]|cancel|rerun`. */

export function register(program: Command): void {
  const cmd = program.command('runs').description('Browse, follow, cancel and rerun pipeline runs');

  cmd
    .command('list')
    .description('List runs, newest first')
    .option('--pipeline <name>', 'only runs of this pipeline')
    .option('--status <status>', 'only runs in this status (Queued, Running, Completed, Failed, Canceled)')
    .option('--limit <n>', 'at most this many runs', '20')
    .option('--json', 'print JSON')
    .action(
      async (opts: { pipeline?: string; status?: string; limit: string; json?: boolean }, c: Command) => {
        const client = ApiClient.fromCommand(c);
        const want = Number(opts.limit);
        const items: Array<Record<string, any>> = [];
        let token: string | undefined;
        do {
          const q = new URLSearchParams();
          if (opts.pipeline) q.set('pipeline', opts.pipeline);
          if (opts.status) q.set('status', opts.status);
          q.set('limit', String(Math.min(200, Math.max(1, want - items.length))));
          if (token) q.set('continuationToken', token);
          const page = await client.json<{ items: Array<Record<string, any>>; continuationToken?: string }>(
            `/runs?${q}`,
          );
          items.push(...page.items);
          token = page.continuationToken;
        } while (token && items.length < want);
        if (opts.json) return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
        if (!items.length) return void process.stdout.write('no runs\n');
        const rows = [['RUN', 'PIPELINE', 'VERSION', 'STATUS', 'CREATED', 'TRIGGER']];
        for (const r of items)
          rows.push([
            r.runId,
            r.pipeline,
            String(r.version),
            r.status,
            r.createdAt ?? '',
            r.trigger?.type ?? '',
          ]);
        process.stdout.write(table(rows) + '\n');
      },
    );

  cmd
    .command('show')
    .description('Show a run and its steps')
    .argument('<run>', 'run id')
    .option('--json', 'print JSON')
    .option('--all', 'every leaderboard row (sweep and automl steps), not the first 10')
    .action(async (runId: string, opts: { json?: boolean; all?: boolean }, c: Command) => {
      const run = await ApiClient.fromCommand(c).json<RunView & Record<string, unknown>>(
        `/runs/${encodeURIComponent(runId)}`,
      );
      if (opts.json) return void process.stdout.write(JSON.stringify(run, null, 2) + '\n');
      const lines = [
        `run ${run.runId}: ${run.pipeline} v${run.version}, ${run.status}`,
        `created ${run.createdAt ?? '?'}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}${run.rerunOf ? `, rerun of ${run.rerunOf}` : ''}`,
      ];
      if (run.parameters && Object.keys(run.parameters).length)
        lines.push(`parameters: ${JSON.stringify(run.parameters)}`);
      const w = Math.max(...run.steps.map((s) => s.name.length), 4);
      for (const s of run.steps) lines.push(`  ${s.name.padEnd(w)}  ${describeStep(s)}`);
      // sweep and automl steps: every trial's metrics, best first.
      for (const s of run.steps as Array<{ name: string; leaderboard?: LeaderboardRow[] }>)
        if (s.leaderboard?.length)
          lines.push(
            '',
            `leaderboard of ${s.name}:`,
            formatLeaderboard(s.leaderboard, opts.all ? undefined : 10),
          );
      process.stdout.write(lines.join('\n') + '\n');
    });

  cmd
    .command('logs')
    .description('Print a step’s log (a Reused step shows the log of the run it reused)')
    .argument('<run>', 'run id')
    .argument('<step>', 'step name')
    .option('-f, --follow', 'stream the log while the step runs')
    .option(
      '--batch <n>',
      'one mini-batch (parallelRun) or trial (automl), 0-based; without it, every batch’s latest log',
    )
    .option('--attempt <n>', 'an earlier attempt’s log (of the batch, with --batch)')
    .action(
      async (
        runId: string,
        stepName: string,
        opts: { follow?: boolean; attempt?: string; batch?: string },
        c: Command,
      ) => {
        const q = new URLSearchParams();
        if (opts.follow) q.set('follow', 'true');
        if (opts.batch) q.set('batch', opts.batch);
        if (opts.attempt) q.set('attempt', opts.attempt);
        const res = await ApiClient.fromCommand(c).fetch(
          `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepName)}/logs${q.size ? `?${q}` : ''}`,
        );
        if (!res.body) return;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          process.stdout.write(chunk);
      },
    );

  cmd
    .command('cancel')
    .description('Cancel a run: its running steps are stopped, processes included')
    .argument('<run>', 'run id')
    .option('-w, --wait', 'wait until the run has ended')
    .action(async (runId: string, opts: { wait?: boolean }, c: Command) => {
      const client = ApiClient.fromCommand(c);
      await client.post(`/runs/${encodeURIComponent(runId)}/cancel`, {});
      process.stdout.write(`cancel requested for run ${runId}\n`);
      if (opts.wait) await watchRun(client, runId);
    });

  cmd
    .command('rerun')
    .description(
      'Start a new run with the same version, parameters and input data; succeeded steps are reused',
    )
    .argument('<run>', 'run id')
    .option('-w, --wait', 'follow the new run; exit non-zero unless it completes')
    .action(async (runId: string, opts: { wait?: boolean }, c: Command) => {
      const client = ApiClient.fromCommand(c);
      const r = await client.post<{ runId: string }>(`/runs/${encodeURIComponent(runId)}/rerun`, {});
      process.stdout.write(`run ${r.runId} started (rerun of ${runId})\n`);
      if (opts.wait) {
        const run = await watchRun(client, r.runId);
        if (run.status !== 'Completed') process.exitCode = 1;
      }
    });

  cmd
    .command('delete')
    .description(
      'Delete finished runs: their logs, job rows, history, the cache entries they wrote and their lineage ' +
        '(data stays while a dataset, run or cache entry references it)',
    )
    .argument('<runs...>', 'run ids')
    .action(async (runIds: string[], _opts: unknown, c: Command) => {
      const client = ApiClient.fromCommand(c);
      for (const runId of runIds) {
        const r = await client.json<{
          deleted: { jobs: number; logs: number; cacheEntries: number; lineage: number };
        }>(`/runs/${encodeURIComponent(runId)}`, { method: 'DELETE' });
        const d = r.deleted;
        process.stdout.write(
          `deleted run ${runId}: ${d.jobs} jobs, ${d.logs} logs, ${d.cacheEntries} cache entries, ${d.lineage} lineage edges\n`,
        );
      }
    });
}
