import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { ROOT, sluiceCli, waitForRun } from '../runs/helpers';
import { openDashboard, screenshotPath, type DashboardBrowser } from './browser';

/**
 * The dashboard in a real Chromium against a running Sluice with real runs of the churn example: two
 * churn-train runs that differ in `epochs`, a churn-sweep (AutoML trials, a published dataset), and a
 * second pipeline version. The test clicks through the pages a user would and checks what they show.
 */

// Functions passed to page.evaluate / waitForFunction run in the browser.
declare const document: any;
declare const window: any;
declare const location: any;

let sluice: SluiceProcess;
let ui: DashboardBrowser;
let dir: string;
const runs: { first: string; second: string; sweep: string } = { first: '', second: '', sweep: '' };

async function start(pipeline: string, parameters: Record<string, unknown>, tags = {}): Promise<string> {
  const r = await sluice.json<{ runId: string }>(`/api/pipelines/${pipeline}/runs`, {
    method: 'POST',
    body: { parameters, tags },
  });
  const done = await waitForRun(sluice, r.runId);
  assert.equal(done.status, 'Completed', JSON.stringify(done.steps));
  return r.runId;
}

before(async () => {
  sluice = await startSluice();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dashboard-'));
  fs.cpSync(path.join(ROOT, 'examples', 'churn'), dir, { recursive: true });
  const cli = sluiceCli(sluice);
  await cli('publish', path.join(dir, 'pipeline.yaml'));
  await cli('publish', path.join(dir, 'sweep.yaml'));
  runs.first = await start('churn-train', { rows: 500, epochs: 40 });
  runs.second = await start('churn-train', { rows: 500, epochs: 80 }, { exp: 'longer' });
  runs.sweep = await start('churn-sweep', { rows: 500 });
  // A second version, so the pipeline page has two definitions to diff.
  const yaml = fs.readFileSync(path.join(dir, 'pipeline.yaml'), 'utf8');
  fs.writeFileSync(path.join(dir, 'pipeline.yaml'), yaml.replace('default: 0.5,', 'default: 0.3,'));
  await cli('publish', path.join(dir, 'pipeline.yaml'));
  ui = await openDashboard();
});

after(async () => {
  await ui?.close();
  await sluice?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const shot = (name: string) => ui.page.screenshot({ path: screenshotPath(ROOT, dir, name) });
const go = (hash: string) => ui.page.goto(`${sluice.baseUrl}/api/dashboard/${hash}`);

test('the runs list filters by pipeline and tag, and two ticked runs open side by side with the parameter difference and metric charts', async () => {
  const { page } = ui;
  await go('#/runs');
  await page.waitForSelector(`tr[data-run="${runs.sweep}"]`);
  assert.equal(await page.locator('tr[data-run]').count(), 3);
  await shot('runs');

  await page.fill('#filter-pipeline', 'churn-train');
  await page.press('#filter-pipeline', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-run]').length === 2);
  await page.fill('input[placeholder="key or key=value"]', 'exp=longer');
  await page.press('input[placeholder="key or key=value"]', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-run]').length === 1);
  await page.fill('input[placeholder="key or key=value"]', '');
  await page.press('input[placeholder="key or key=value"]', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-run]').length === 2);

  await page.check(`tr[data-run="${runs.first}"] input[type=checkbox]`);
  await page.check(`tr[data-run="${runs.second}"] input[type=checkbox]`);
  await page.click('[data-test=compare-selected]');
  await page.waitForSelector('table[data-test=parameters]');
  const differing = await page.locator('table[data-test=parameters] tr.differs th').allTextContents();
  assert.deepEqual(differing, ['epochs']);
  // prepare has the same cache key in both runs (the second reused it); train does not.
  const steps = await page.locator('table[data-test=steps] tr.differs th').allTextContents();
  assert.ok(steps.includes('train') && !steps.includes('prepare'), steps.join());
  assert.match(await page.locator('table[data-test=steps]').innerText(), /Reused/);
  assert.match(await page.locator('table[data-test=metrics]').innerText(), /evaluate\.auc/);
  // Two charts: the compared runs' series overlaid, and the metric across every run of the pipeline.
  await page.selectOption('[data-test=metric-pick]', { label: 'train.train_loss' });
  await page.waitForFunction(() => {
    const titles = [...document.querySelectorAll('.chart .u-title')].map((t: any) => t.textContent);
    return titles.filter((t) => t.startsWith('train.train_loss')).length === 2;
  });
  const titles = await page.locator('.chart .u-title').allTextContents();
  assert.ok(
    titles.some((t) => /overlaid/.test(t)) && titles.some((t) => /across 2 runs of churn-train/.test(t)),
    titles.join(),
  );
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await shot('compare');
});

test('a run shows its graph with the Reused marker and why a step ran, and reads the run document once', async () => {
  const { page, requests } = ui;
  const before = requests.length;
  await go(`#/runs/${runs.second}`);
  await page.waitForSelector('svg.graph g.node[data-node=train]');
  assert.equal(await page.locator('svg.graph g.node').count(), 3);
  assert.match(await page.locator('g.node[data-node=prepare]').innerHTML(), /↺/);
  await page.click('g.node[data-node=train]');
  assert.match(await page.locator('.step-panel [data-test=reason]').innerText(), /epochs: 40 → 80/);
  await shot('run');

  for (const tab of ['Timeline', 'Parameters', 'Metrics', 'Logs', 'Graph'])
    await page.click(`button.tab:has-text("${tab}")`);
  await page.waitForTimeout(2500);
  const runReads = requests.slice(before).filter((r) => r === `GET /api/runs/${runs.second}`);
  assert.equal(runReads.length, 1, 'a finished run is read once, not polled');
});

test('outputs preview as JSON, as CSV tables (a file in a directory output, an output without extension) and as an image; metrics and logs show', async () => {
  const { page } = ui;
  await go(`#/runs/${runs.first}?tab=outputs`);
  await page.click('button[data-output="evaluate/report"]');
  await page.waitForSelector('[data-preview=json]');
  assert.match(await page.locator('[data-preview=json] pre').innerText(), /"auc"/);
  await page.click('button[data-output="prepare/data"]');
  await page.click('button.link:has-text("train.csv")');
  await page.waitForSelector('[data-preview=csv] table.csv tbody tr');
  assert.ok((await page.locator('[data-preview=csv] table.csv tbody tr').count()) >= 10);

  // Outputs without an extension are recognised by their content: a PNG shows as an image, CSV as a table.
  const png =
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: {
      name: 'plots',
      steps: {
        draw: {
          command:
            `node -e "require('fs').writeFileSync(process.argv[1], Buffer.from('${png}', 'base64'))" \${{outputs.plot}}` +
            " && printf 'id,score\\n1,0.5\\n2,0.7\\n' > \${{outputs.table}}",
          outputs: { plot: { type: 'file' }, table: { type: 'file' } },
        },
      },
    },
  });
  const plots = await start('plots', {});
  await go(`#/runs/${plots}?tab=outputs`);
  await page.click('button[data-output="draw/plot"]');
  await page.waitForSelector('[data-preview=image] img');
  await page.waitForFunction(
    () => (document.querySelector('[data-preview=image] img') as any)?.naturalWidth === 1,
  );
  await page.click('button[data-output="draw/table"]');
  await page.waitForSelector('[data-preview=csv] table.csv');
  assert.deepEqual(await page.locator('[data-preview=csv] table.csv tbody tr').allInnerTexts(), [
    '1\t0.5',
    '2\t0.7',
  ]);

  await go(`#/runs/${runs.first}?tab=metrics`);
  await page.waitForSelector('.chart[data-chart="train · train_loss"] canvas');
  await shot('metrics');
  await go(`#/runs/${runs.first}?tab=logs&step=train`);
  await page.waitForFunction(() => (document.querySelector('pre.log')?.textContent ?? '').length > 10);
});

test('the sweep shows a leaderboard of its trials with the best one marked, and its batches on the timeline', async () => {
  const { page } = ui;
  await go(`#/runs/${runs.sweep}?tab=batches`);
  await page.waitForSelector('[data-batches=sweep] tbody tr');
  const rows = await page.locator('[data-batches=sweep] tbody tr').allInnerTexts();
  assert.equal(rows.length, 6);
  assert.match(rows[0]!, /★/, 'the best trial ranks first');
  await shot('trials');
  await go(`#/runs/${runs.sweep}?tab=timeline`);
  await page.waitForSelector('.gantt-row.sub');
  assert.equal(await page.locator('.gantt-row.sub').count(), 6);
});

test('datasets show versions and the lineage graph of the run that produced one; pipelines diff two versions', async () => {
  const { page } = ui;
  await go('#/datasets');
  await page.click('a:has-text("churn-model")');
  await page.waitForSelector('svg.graph g.node');
  const nodes = await page.locator('svg.graph g.node').allTextContents();
  assert.ok(
    nodes.some((n) => /publish-model/.test(n)) && nodes.some((n) => /churn-model v1/.test(n)),
    nodes.join(),
  );
  await shot('dataset');

  await go('#/pipelines/churn-train');
  await page.waitForSelector('[data-test=diff] .add');
  assert.match(await page.locator('[data-test=diff] .add').first().innerText(), /0\.3/);
  assert.match(await page.locator('[data-test=diff] .del').first().innerText(), /0\.5/);
});

test('a running step’s log streams into the page, and polling of the run stops once it ends', async () => {
  const { page, requests } = ui;
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: {
      name: 'chatty',
      steps: { talk: { command: 'for i in $(seq 1 25); do echo "line $i"; sleep 0.4; done' } },
    },
  });
  const { runId } = await sluice.json<{ runId: string }>('/api/pipelines/chatty/runs', {
    method: 'POST',
    body: {},
  });
  await go(`#/runs/${runId}?tab=logs&step=talk`);
  await page.waitForFunction(() => /line 2\b/.test(document.querySelector('pre.log')?.textContent ?? ''));
  const statusAtLine2 = (await sluice.json<{ status: string }>(`/api/runs/${runId}`)).status;
  assert.equal(statusAtLine2, 'Running', 'lines arrive while the step runs');
  // The agent running it is on the compute page's API while it works.
  const agents = await sluice.json<{ items: Array<{ pool: string; jobs: Array<{ runId: string }> }> }>(
    '/api/compute/agents',
  );
  assert.ok(agents.items.some((a) => a.pool === 'local' && a.jobs.some((j) => j.runId === runId)));
  await page.waitForFunction(() => /line 25\b/.test(document.querySelector('pre.log')?.textContent ?? ''));
  await page.waitForSelector('h1 .pill.s-Completed');
  const reads = () => requests.filter((r) => r === `GET /api/runs/${runId}`).length;
  const afterEnd = reads();
  await page.waitForTimeout(4500);
  assert.equal(reads(), afterEnd, 'a finished run is no longer polled');
  assert.ok(requests.some((r) => r === `GET /api/runs/${runId}/steps/talk/logs?follow=true`));
});

test('a run of 500 steps is laid out with no two step boxes overlapping', async () => {
  const { page } = ui;
  // A synthetic run document (the layout is what is under test): 20 fan-out stages of 25 steps.
  const steps = Array.from({ length: 500 }, (_, i) => {
    const stage = Math.floor(i / 25);
    return {
      name: `stage-${stage}-step-${i % 25}-with-a-long-descriptive-name`,
      status: i % 7 === 0 ? 'Reused' : 'Completed',
      attempts: 1,
      dependsOn: stage === 0 ? [] : [`stage-${stage - 1}-step-${i % 25}-with-a-long-descriptive-name`],
    };
  });
  const run = {
    runId: 'r-big',
    pipeline: 'big',
    version: 1,
    definitionHash: 'sha256:' + '0'.repeat(64),
    status: 'Completed',
    parameters: {},
    inputs: {},
    tags: {},
    trigger: { type: 'rest' },
    createdAt: new Date().toISOString(),
    steps,
  };
  await page.route('**/api/runs/r-big', (r) => r.fulfill({ json: run }));
  const started = Date.now();
  await go('#/runs/r-big');
  await page.waitForSelector('svg.graph g.node');
  const layoutMs = Date.now() - started;
  const boxes: Array<{ x: number; y: number; w: number; h: number }> = await page.evaluate(() =>
    [...document.querySelectorAll('svg.graph g.node rect:first-of-type')].map((r: any) => ({
      x: r.x.baseVal.value,
      y: r.y.baseVal.value,
      w: r.width.baseVal.value,
      h: r.height.baseVal.value,
    })),
  );
  assert.equal(boxes.length, 500);
  let overlaps = 0;
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]!, boxes[j]!];
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps++;
    }
  assert.equal(overlaps, 0);
  await page.unroute('**/api/runs/r-big');
  console.log(`# 500-step graph shown in ${layoutMs} ms`);
});

test('keyboard: j and Enter open the first run, t switches the theme; the page called only documented API routes', async () => {
  const { page, requests, errors } = ui;
  await go('#/runs');
  await page.waitForSelector('tr[data-run]');
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.keyboard.press('t');
  await page.waitForFunction((before) => document.documentElement.dataset.theme !== before, theme);
  assert.match(String(await page.evaluate(() => document.documentElement.dataset.theme)), /^(dark|light)$/);
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /^#\/runs\/r-/.test(location.hash));

  await go('#/schedules');
  await page.waitForSelector('h1:has-text("Schedules")');
  await go('#/compute');
  await page.waitForSelector('td:has-text("local")');

  const openapi = await sluice.json<{ paths: Record<string, Record<string, unknown>> }>('/api/openapi.json');
  const documented = Object.entries(openapi.paths).flatMap(([p, ops]) =>
    Object.keys(ops).map((m) => new RegExp(`^${m.toUpperCase()} ${p.replace(/\{[^}]+\}/g, '[^/]+')}$`)),
  );
  const called = [...new Set(requests.map((r) => r.split('?')[0]!))];
  for (const r of called)
    assert.ok(
      documented.some((re) => re.test(r)),
      `${r} is not in /api/openapi.json`,
    );
  assert.ok(called.length >= 10, called.join('\n'));
  assert.deepEqual(errors, []);
});
