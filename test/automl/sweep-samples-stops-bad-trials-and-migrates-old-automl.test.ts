import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { startRun, step, waitForRun } from '../runs/helpers';
import type { LeaderboardRow } from '../../lib/runs/store';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

type Published = { name: string; version: number; warnings?: Array<{ pointer: string; message: string }> };

test('a sweep’s bandit policy cancels a running trial that falls behind, and every trial is on the leaderboard', async () => {
  // Trial 0 (q=9) reports good points and ends after a few seconds; trial 1 (q=1) reports poor points and
  // would sleep a minute. Its points reach the orchestration with its heartbeat; when trial 0 ends the
  // policy judges trial 1 and cancels it.
  const trial =
    'for s in 1 2 3; do echo "{\\"name\\":\\"acc\\",\\"value\\":0.${{trial.q}},\\"step\\":$s}" >> "$SLUICE_METRICS"; done; ' +
    'if [ ${{trial.q}} -gt 5 ]; then sleep 5; else sleep 60; fi; echo q=${{trial.q}} > ${{outputs.model}}';
  const res = await sluice.json<Published>('/api/pipelines', {
    method: 'POST',
    body: {
      name: 'sweep-bandit',
      steps: {
        tune: {
          kind: 'sweep',
          metric: 'acc',
          sampler: 'grid',
          maxConcurrentTrials: 2,
          earlyTermination: { policy: 'bandit', slackFactor: 0.2 },
          searchSpace: { q: { type: 'choice', values: [9, 1] } },
          command: trial,
          outputs: { model: { type: 'file' } },
        },
      },
    },
  });
  assert.equal(res.warnings, undefined);
  const run = await waitForRun(sluice, await startRun(sluice, 'sweep-bandit'));
  const tune = step(run, 'tune') as ReturnType<typeof step> & { leaderboard?: LeaderboardRow[] };
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps));
  assert.deepEqual(tune.bestTrial?.parameters, { q: 9 });
  assert.deepEqual(
    tune.leaderboard?.map((r) => [r.rank, r.trial, r.status, r.metrics?.acc]),
    [
      [1, 0, 'Completed', 0.9],
      [2, 1, 'Canceled', undefined],
    ],
  );
  const model = await sluice.api(`/api/runs/${run.runId}/steps/tune/outputs/model`);
  assert.equal(await model.text(), 'q=9\n');
});

test('a random sweep draws maxTotalTrials seeded trials; an old `kind: automl` with a command runs as a sweep with a warning', async () => {
  const res = await sluice.json<Published>('/api/pipelines', {
    method: 'POST',
    body: {
      name: 'sweep-old',
      steps: {
        tune: {
          kind: 'automl',
          task: 'regression',
          metric: 'loss',
          goal: 'minimize',
          trials: 4,
          searchSpace: { x: { type: 'uniform', min: -1, max: 1 } },
          args: [
            'sh',
            '-c',
            'echo "{\\"name\\":\\"loss\\",\\"value\\":$1}" > "$SLUICE_METRICS"',
            'sh',
            '${{trial.x}}',
          ],
        },
        rand: {
          kind: 'sweep',
          metric: 'loss',
          goal: 'minimize',
          sampler: 'random',
          seed: 7,
          maxTotalTrials: 3,
          searchSpace: { x: { type: 'uniform', min: 0, max: 1 } },
          args: [
            'sh',
            '-c',
            'echo "{\\"name\\":\\"loss\\",\\"value\\":$1}" > "$SLUICE_METRICS"',
            'sh',
            '${{trial.x}}',
          ],
        },
      },
    },
  });
  assert.equal(res.warnings?.length, 1);
  assert.equal(res.warnings![0]!.pointer, '/steps/tune/kind');
  assert.match(res.warnings![0]!.message, /kind: sweep.*maxTotalTrials/s);
  const version = await sluice.json<{
    definition: { steps: Record<string, { kind: string; maxTotalTrials?: number }> };
  }>(`/api/pipelines/sweep-old/versions/${res.version}`);
  assert.equal(version.definition.steps.tune!.kind, 'sweep');
  assert.equal(version.definition.steps.tune!.maxTotalTrials, 4);

  const run = await waitForRun(sluice, await startRun(sluice, 'sweep-old'));
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps));
  const tune = step(run, 'tune') as ReturnType<typeof step> & { leaderboard?: LeaderboardRow[] };
  assert.equal(tune.batches?.total, 4);
  assert.equal(tune.leaderboard?.length, 4);
  const losses = tune.leaderboard!.map((r) => r.metrics!.loss!);
  assert.deepEqual(
    losses,
    [...losses].sort((a, b) => a - b),
    'best (lowest) first',
  );
  const rand = step(run, 'rand') as ReturnType<typeof step> & { leaderboard?: LeaderboardRow[] };
  assert.equal(rand.leaderboard?.length, 3);
  assert.ok(
    rand.leaderboard!.every(
      (r) => (r.hyperparameters!.x as number) >= 0 && (r.hyperparameters!.x as number) < 1,
    ),
  );
});

test('a sweep’s numeric fields take parameters: a run value out of the field’s range is a 400 with its pointer', async () => {
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: {
      name: 'sweep-params',
      parameters: { trials: { type: 'integer', default: 2 }, slots: { type: 'integer', default: 1 } },
      steps: {
        tune: {
          kind: 'sweep',
          metric: 'm',
          maxTotalTrials: '${{parameters.trials}}',
          maxConcurrentTrials: '${{parameters.slots}}',
          searchSpace: { x: { type: 'int', min: 1, max: 9 } },
          args: [
            'sh',
            '-c',
            'echo "{\\"name\\":\\"m\\",\\"value\\":$1}" > "$SLUICE_METRICS"',
            'sh',
            '${{trial.x}}',
          ],
        },
      },
    },
  });
  const res = await sluice.api('/api/pipelines/sweep-params/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ parameters: { slots: 65 } }),
  });
  assert.equal(res.status, 400);
  const problem = (await res.json()) as { errors: Array<{ pointer: string; message: string }> };
  assert.deepEqual(
    problem.errors.map((e) => e.pointer),
    ['/steps/tune/maxConcurrentTrials'],
  );
  assert.match(problem.errors[0]!.message, /\$\{\{parameters\.slots\}\} = 65/);
  const run = await waitForRun(sluice, await startRun(sluice, 'sweep-params', { parameters: { trials: 3 } }));
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps));
  assert.equal(step(run, 'tune').batches?.total, 3);
});
