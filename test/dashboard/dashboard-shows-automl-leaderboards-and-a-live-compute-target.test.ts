import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { ROOT, sluiceCli, waitForRun } from '../runs/helpers';
import { slurmInstalled, startSlurm, type SlurmTestCluster } from '../compute/slurm-cluster';
import { openDashboard, screenshotPath, type DashboardBrowser } from './browser';

/**
 * The run page of a real AutoML run (FLAML over two model families, a fixed number of trials) and of a
 * sweep shows every trial as a sortable leaderboard with the best marked and a chart of the primary
 * metric; a compute target's page shows its live agent: heartbeat, version, the job it runs now and the
 * environments it has cached (built by a real step with `environment:`); a Slurm target's page shows
 * the Slurm job of a step running on it (a real single-node Slurm, when test/setup/slurm.sh installed it).
 */

// Functions passed to page.evaluate / waitForFunction run in the browser.
declare const document: any;
declare const location: any;

let sluice: SluiceProcess;
let ui: DashboardBrowser;
let dir: string;
let slurm: SlurmTestCluster | undefined;
const noSlurm = slurmInstalled() ? false : 'Slurm is not installed (test/setup/slurm.sh)';

interface Row {
  rank: number;
  trial?: number;
  family?: string;
  status: string;
  metrics?: Record<string, number>;
}
interface RunView {
  runId: string;
  status: string;
  steps: Array<{
    name: string;
    status: string;
    leaderboard?: Row[];
    bestTrial?: { index: number; metric: string; value: number };
    environment?: { hash: string };
  }>;
}

async function start(pipeline: string, parameters: Record<string, unknown> = {}): Promise<RunView> {
  const r = await sluice.json<{ runId: string }>(`/api/pipelines/${pipeline}/runs`, {
    method: 'POST',
    body: { parameters },
  });
  const done = (await waitForRun(sluice, r.runId, 240_000)) as unknown as RunView;
  assert.equal(done.status, 'Completed', JSON.stringify(done.steps));
  return done;
}

const AUTOML = `name: automl-board
steps:
  prepare:
    code: src
    command: python3 prepare.py \${{outputs.cancer}} \${{outputs.diabetes}} \${{outputs.to_score}}
    outputs:
      cancer: { type: directory }
      diabetes: { type: directory }
      to_score: { type: directory }
  classify:
    kind: automl
    task: classification
    trainingData: \${{steps.prepare.outputs.cancer}}
    labelColumn: diagnosis
    primaryMetric: AUC_weighted
    validationSize: 0.25
    allowedModels: [LogisticRegression, RandomForest]
    limits: { maxTrials: 6, maxConcurrentTrials: 2 }
`;

const SCORE = `require('fs').appendFileSync(process.env.SLUICE_METRICS, JSON.stringify({ name: 'score', value: -((Number(process.argv[1]) - 3) ** 2) }) + '\\n')`;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dashboard-automl-'));
  if (!noSlurm) slurm = await startSlurm();
  sluice = await startSluice({
    env: {
      SLUICE_ENV_CACHE_DIR: path.join(dir, 'envs'),
      // The service is a Slurm submit host.
      ...(slurm ? { SLURM_CONF: slurm.conf } : {}),
    },
  });
  fs.cpSync(path.join(ROOT, 'examples', 'automl', 'src'), path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'automl.yaml'), AUTOML);
  await sluiceCli(sluice)('publish', path.join(dir, 'automl.yaml'));
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: {
      name: 'tune',
      steps: {
        search: {
          kind: 'sweep',
          metric: 'score',
          goal: 'maximize',
          maxTotalTrials: 5,
          maxConcurrentTrials: 2,
          searchSpace: { x: { type: 'choice', values: [1, 2, 3, 4, 5] } },
          command: `node -e "${SCORE}" \${{trial.x}}`,
        },
      },
    },
  });
  ui = await openDashboard();
});

after(async () => {
  await ui?.close();
  await sluice?.stop();
  await slurm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const shot = (name: string) => ui.page.screenshot({ path: screenshotPath(ROOT, dir, name), fullPage: true });
const go = (hash: string) => ui.page.goto(`${sluice.baseUrl}/api/dashboard/${hash}`);

test('an AutoML run’s page shows every trial of the step in a sortable leaderboard, the best marked, and AUC_weighted over trials', async () => {
  const run = await start('automl-board');
  const board = run.steps.find((s) => s.name === 'classify')!.leaderboard!;
  assert.ok(board.length >= 4, `a leaderboard of the trials: ${JSON.stringify(board)}`);
  assert.deepEqual([...new Set(board.map((r) => r.family))].sort(), ['LogisticRegression', 'RandomForest']);

  const { page, requests } = ui;
  await go(`#/runs/${run.runId}?step=classify`);
  const rows = page.locator('[data-leaderboard=classify] .leaderboard-table tbody tr');
  await page.waitForSelector('[data-leaderboard=classify] .leaderboard-table tbody tr');
  assert.equal(await rows.count(), board.length, 'one row per trial');
  assert.match(
    await page.locator('.step-panel [data-test=leaderboard-link]').innerText(),
    /Leaderboard: \d+ trials/,
  );
  // Rank 1 is the best: marked, and its AUC_weighted is the highest of the completed trials.
  const first = rows.first();
  assert.equal(await first.getAttribute('data-best'), 'true');
  assert.match(await first.innerText(), /★/);
  assert.equal(await page.locator('[data-leaderboard=classify] tr[data-best]').count(), 1);
  const best = Math.max(
    ...board.filter((r) => r.status === 'Completed').map((r) => r.metrics!.AUC_weighted!),
  );
  assert.equal(board[0]!.metrics!.AUC_weighted, best);
  assert.match(
    await page.locator('[data-leaderboard=classify] h2').innerText(),
    /ranked by AUC_weighted \(maximize\)/,
  );
  // The columns: model, hyperparameters, every metric of the task, duration and status.
  const head = await page.locator('[data-leaderboard=classify] thead th').allInnerTexts();
  for (const h of ['Model', 'Status', 'Duration', 'AUC_weighted', 'accuracy', 'Hyperparameters'])
    assert.ok(
      head.some((x) => x.startsWith(h)),
      `column ${h} in ${head.join(', ')}`,
    );
  assert.match(await first.innerText(), /(LogisticRegression|RandomForest)/);
  assert.match(await rows.nth(0).locator('td.params').innerText(), /=/, 'hyperparameters as name=value');

  // A chart of the primary metric over the trials, one series per model family.
  await page.waitForSelector(
    '[data-leaderboard=classify] .chart[data-chart="AUC_weighted over trials"] canvas',
  );
  const legend = await page.locator('[data-leaderboard=classify] .u-legend').innerText();
  assert.match(legend, /LogisticRegression/);
  assert.match(legend, /RandomForest/);
  await shot('leaderboard');

  // Sorting: by model name ascending, then by AUC_weighted (best first), then back to rank.
  await page.click('[data-leaderboard=classify] th[data-sort=model]');
  const models = (
    await page
      .locator('[data-leaderboard=classify] .leaderboard-table tbody tr td:nth-child(2)')
      .allInnerTexts()
  ).map((t) => t.replace('★ ', ''));
  assert.deepEqual(
    models,
    [...models].sort((a, b) => a.localeCompare(b)),
  );
  await page.click('[data-leaderboard=classify] th[data-sort="m:AUC_weighted"]');
  const aucs = (
    await page.locator('[data-leaderboard=classify] .leaderboard-table tbody tr td.primary').allInnerTexts()
  )
    .map(Number)
    .filter((n) => !Number.isNaN(n));
  assert.deepEqual(
    aucs,
    [...aucs].sort((a, b) => b - a),
    'AUC_weighted opens best first',
  );
  await page.click('[data-leaderboard=classify] th[data-sort=rank]');
  assert.deepEqual(
    (await page
      .locator('[data-leaderboard=classify] .leaderboard-table tbody tr')
      .evaluateAll((trs: any[]) => trs.map((t) => Number(t.dataset.rank)))) as number[],
    board.map((r) => r.rank),
  );
  // The rows came with the run document: the run is read once, the definition once (for the metric).
  assert.equal(requests.filter((r) => r === `GET /api/runs/${run.runId}`).length, 1);
  // The Batches & trials tab shows it under the step's family jobs.
  await page.click('button.tab:has-text("Batches")');
  await page.waitForSelector('[data-batches=classify]');
  assert.equal(
    await page.locator('[data-leaderboard=classify] .leaderboard-table tbody tr').count(),
    board.length,
  );
  // A rerun reuses the step: its panel points to the run whose trials they are.
  const again = await start('automl-board');
  assert.equal(again.steps.find((s) => s.name === 'classify')!.status, 'Reused');
  await go(`#/runs/${again.runId}?step=classify`);
  await page.click('.step-panel [data-test=leaderboard-link] a:has-text("on the run it reused")');
  await page.waitForFunction((id: string) => location.hash.includes(id), run.runId);
  await page.waitForSelector('[data-leaderboard=classify] .leaderboard-table tbody tr');
  assert.equal(await rows.count(), board.length);
});

test('a sweep’s leaderboard ranks its trials by its metric and marks the trial the step chose', async () => {
  const run = await start('tune');
  const step = run.steps.find((s) => s.name === 'search')!;
  assert.equal(step.leaderboard?.length, 5);
  assert.equal(step.bestTrial?.index, 2, 'x = 3 scores best');

  const { page } = ui;
  await go(`#/runs/${run.runId}?step=search`);
  await page.waitForSelector('[data-leaderboard=search] .leaderboard-table tbody tr');
  const rows = page.locator('[data-leaderboard=search] .leaderboard-table tbody tr');
  assert.equal(await rows.count(), 5);
  assert.match(await rows.first().innerText(), /★ trial 2/);
  assert.match(await rows.first().innerText(), /x=3/);
  assert.match(await page.locator('[data-test=best-trial]').innerText(), /score = 0/);
  await page.waitForSelector('[data-leaderboard=search] .chart[data-chart="score over trials"] canvas');
  assert.match(await page.locator('[data-leaderboard=search] .u-legend').innerText(), /best so far/);
});

test('a target’s page shows its live agent: version, heartbeat, the job it runs now, and the environment a step built on it', async () => {
  // A step with an environment: the local agent builds it into its cache and reports it.
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: {
      name: 'with-env',
      steps: { hello: { command: 'python -c "print(42)"', environment: { python: '>=3.8' } } },
    },
  });
  const run = await start('with-env');
  const hash = run.steps[0]!.environment!.hash.replace(/^sha256:/, '');

  // The API's live view lists it (the agent writes its presence every 5 s).
  let live: { queueDepth: number; agents: Array<Record<string, any>> } | undefined;
  for (let i = 0; i < 40; i++) {
    live = await sluice.json('/api/compute/local/live');
    if (live!.agents.some((a) => a.cachedEnvironments.includes(hash.slice(0, 12)))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const agent = live!.agents.find((a) => a.cachedEnvironments.includes(hash.slice(0, 12)));
  assert.ok(agent, `the agent lists environment ${hash.slice(0, 12)}: ${JSON.stringify(live)}`);
  assert.equal(agent.environments[0].key, hash);
  assert.match(agent.environments[0].python, /^3\./);
  assert.ok(agent.environments[0].sizeBytes > 0);

  const { page } = ui;
  await go('#/compute');
  await page.click('tr[data-target=local] a');
  await page.waitForSelector(`[data-target-page=local] tr[data-agent="${agent.agentId}"]`);
  const row = page.locator(`tr[data-agent="${agent.agentId}"]`);
  assert.match(await row.innerText(), new RegExp(agent.version.replace(/\./g, '\\.')));
  assert.match(await row.locator('[data-test=heartbeat]').innerText(), /ago/);
  await page.waitForSelector(`tr[data-agent="${agent.agentId}"] li[data-env="${hash}"]`);
  assert.match(await row.locator(`li[data-env="${hash}"]`).innerText(), /python 3\.\d+/);

  // The page refreshes on its own: a job started now shows up under the agent while it runs.
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: { name: 'slow', steps: { wait: { command: 'sleep 8' } } },
  });
  const { runId } = await sluice.json<{ runId: string }>('/api/pipelines/slow/runs', {
    method: 'POST',
    body: {},
  });
  await page.waitForSelector(
    `tr[data-agent="${agent.agentId}"] [data-test=running] a:has-text("${runId.slice(0, 12)}")`,
    {
      timeout: 20_000,
    },
  );
  assert.match(await row.locator('[data-test=running]').innerText(), /wait/);
  await page.waitForSelector('.chart[data-chart="Jobs while this page is open"] canvas');
  await shot('compute-target');
  await waitForRun(sluice, runId);
  await page.waitForFunction(
    (id: string) => !document.querySelector(`tr[data-agent="${id}"] [data-test=running] a`),
    agent.agentId,
    { timeout: 20_000 },
  );
  assert.deepEqual(ui.errors, []);
});

test(
  'a Slurm target’s page shows the Slurm job of the step running on it, live',
  { skip: noSlurm },
  async () => {
    await sluiceCli(sluice)('compute', 'add', 'hpc', '--slurm', '--partition', 'debug');
    await sluice.json('/api/pipelines', {
      method: 'POST',
      body: { name: 'on-hpc', steps: { crunch: { command: 'sleep 6', compute: 'hpc' } } },
    });
    const { page } = ui;
    await go('#/compute/hpc');
    await page.waitForSelector('[data-target-page=hpc] h2:has-text("Slurm jobs")');
    const { runId } = await sluice.json<{ runId: string }>('/api/pipelines/on-hpc/runs', {
      method: 'POST',
      body: {},
    });
    // The page reads the live view every few seconds: the job appears without a reload.
    await page.waitForSelector('[data-test=slurm-jobs] tbody tr:has-text("RUNNING")', { timeout: 60_000 });
    assert.match(await page.locator('[data-test=slurm-jobs] tbody tr').first().innerText(), /sluice-/);
    await shot('compute-slurm');
    const done = await waitForRun(sluice, runId, 120_000);
    assert.equal(done.status, 'Completed');
    await page.waitForSelector('[data-test=slurm-jobs] tbody tr:has-text("RUNNING")', {
      state: 'detached',
      timeout: 30_000,
    });
  },
);

test('these pages called only documented API routes and logged no errors', async () => {
  const openapi = await sluice.json<{ paths: Record<string, Record<string, unknown>> }>('/api/openapi.json');
  const documented = Object.entries(openapi.paths).flatMap(([p, ops]) =>
    Object.keys(ops).map((m) => new RegExp(`^${m.toUpperCase()} ${p.replace(/\{[^}]+\}/g, '[^/]+')}$`)),
  );
  const called = [...new Set(ui.requests.map((r) => r.split('?')[0]!))];
  for (const r of called)
    assert.ok(
      documented.some((re) => re.test(r)),
      `${r} is not in /api/openapi.json`,
    );
  assert.ok(
    called.some((r) => /^GET \/api\/compute\/local\/live$/.test(r)),
    called.join('\n'),
  );
  assert.deepEqual(ui.errors, []);
});
