import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, ROOT, sluiceCli, startRun, step, waitFor, waitForRun } from '../runs/helpers';
import type { LeaderboardRow } from '../../lib/runs/store';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

type StepWithBoard = ReturnType<typeof step> & { leaderboard?: LeaderboardRow[] };

// The README's example, as a user runs it, with a small time budget (the 60 s default is for people).
test('the automl example chooses models within its budget, scores a batch with the best model, and reruns only when the budget changes', async () => {
  const cli = sluiceCli(sluice);
  const published = await cli('publish', path.join(ROOT, 'examples', 'automl', 'pipeline.yaml'));
  assert.match(published.stdout, /automl-example@1/);

  const run = await waitForRun(
    sluice,
    await startRun(sluice, 'automl-example', { parameters: { budget: '16s' } }),
    300_000,
  );
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps, null, 1));

  const classify = step(run, 'classify') as StepWithBoard;
  const board = classify.leaderboard!;
  assert.ok(board.length >= 4, `every trial is listed (${board.length})`);
  assert.ok(new Set(board.map((r) => r.family)).size >= 3, 'several model families were tried');
  assert.ok(board.every((r, i) => r.rank === i + 1));
  assert.ok(board[0]!.metrics!.AUC_weighted! >= 0.97, `best AUC_weighted ${board[0]!.metrics!.AUC_weighted}`);
  assert.ok(
    board.some((r) => r.hyperparameters && Object.keys(r.hyperparameters).length),
    'hyperparameters kept',
  );
  assert.deepEqual(Object.keys(classify.outputs!).sort(), ['best_model', 'featurization', 'leaderboard']);

  const regress = step(run, 'regress') as StepWithBoard;
  assert.ok(
    regress.leaderboard![0]!.metrics!.r2_score! >= 0.3,
    `best r2 ${regress.leaderboard![0]!.metrics!.r2_score}`,
  );

  const files = await sluice
    .json<{ files: Array<{ path: string }> }>(
      `/api/runs/${run.runId}/steps/classify/outputs/best_model?list=true`,
    )
    .catch(() => undefined);
  if (files) assert.ok(files.files.some((f) => f.path === 'MLmodel'));

  const predictions = await (
    await sluice.api(`/api/runs/${run.runId}/steps/score/outputs/predictions`)
  ).text();
  const lines = predictions
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  assert.equal(lines.length, 72, 'every held-back row scored');
  const right = lines.filter((l) => l[2] === l[3]).length;
  assert.ok(right / lines.length >= 0.9, `accuracy on the scored batch ${right}/${lines.length}`);

  // Both automl steps ran in the built-in AutoML environment, built once by one job and then taken
  // from the agent's cache by the other 9 (classify's and regress's family jobs and gathers); its pins
  // are in the steps' cache keys.
  const pins = (
    classify.cache as unknown as { components: { packages?: { packages?: Record<string, string> } } }
  ).components.packages?.packages;
  assert.equal(pins?.flaml, '==2.7.0');
  assert.equal(pins?.['xgboost-cpu'], '==3.2.0');
  const logs = (
    await Promise.all(
      ['classify', 'regress'].flatMap((s) =>
        [0, 1, 2, 3, 4].map(
          async (b) => (await cli('runs', 'logs', run.runId, s, '--batch', String(b))).stdout,
        ),
      ),
    )
  ).join('\n----\n');
  const built = logs.match(/building environment [0-9a-f]{12}/g)?.length ?? 0;
  const found = logs.match(/environment [0-9a-f]{12} (from the cache|is being built by)/g)?.length ?? 0;
  assert.ok(built <= 1 && built + found >= 10, `built ${built}, found ${found}:\n${logs}`);
  assert.equal(
    new Set(logs.match(/environment [0-9a-f]{12}/g)!.map((m) => m.slice(-12))).size,
    1,
    'one environment for both steps',
  );
  assert.match(logs, /FLAML budget [0-9.]+s of a [0-9.]+s share/);
  // Where each family job's wall clock went is on the step: its start-up is spent out of its share.
  assert.ok(
    classify.metrics?.some((m) => m.name.startsWith('startup_s.')),
    JSON.stringify(classify.metrics),
  );

  const shown = await cli('runs', 'show', run.runId);
  assert.match(shown.stdout, /leaderboard of classify/);
  assert.match(shown.stdout, /AUC_weighted/);

  // Unchanged: Reused. A new budget: the automl steps run again and explain says why.
  const same = await waitForRun(
    sluice,
    await startRun(sluice, 'automl-example', { parameters: { budget: '16s' } }),
    120_000,
  );
  assert.equal(step(same, 'classify').status, 'Reused');
  assert.equal(step(same, 'regress').status, 'Reused');
  // classify runs first (regress waits for it): once it has run again, the rest of the run is not needed.
  const changed = await startRun(sluice, 'automl-example', { parameters: { budget: '14s' } });
  const classified = await waitFor(
    'classify to run again',
    async () => {
      const r = await getRun(sluice, changed);
      return ['Completed', 'Failed'].includes(step(r, 'classify').status) ? r : undefined;
    },
    300_000,
  );
  assert.equal(step(classified, 'classify').status, 'Completed');
  await sluice.json(`/api/runs/${changed}/cancel`, { method: 'POST' });
  const explained = await cli('explain', changed, 'classify');
  assert.match(explained.stdout, /parameter budget: 16s → 14s/);
  assert.equal((await waitForRun(sluice, changed)).status, 'Canceled');
});
