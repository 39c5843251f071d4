import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { sendJson } from '../triggers/support';
import { eventually, history } from '../schedules/support';
import { getRun, publish, startRun, step, waitForRun } from './helpers';

/**
 * Parameter values arrive from REST calls, queue messages and schedules. None of them is ever parsed by a
 * shell: each value reaches the step's process byte for byte, in a shell command (unquoted, double- and
 * single-quoted), in an `args:` list and in env, and nothing it spells out runs.
 */
const DUMP = path.resolve(__dirname, '..', '..', '..', 'test', 'runs', 'fixtures', 'dump-args.js');
const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-inject-')), 'INJECTED');
const VALUES = [
  `x"; touch ${marker}; echo "`,
  `'; touch ${marker}; echo '`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `a && touch ${marker} || touch ${marker}`,
  `a | tee ${marker}`,
  `line1\ntouch ${marker}`,
  '-n',
  'héllo ☃ 日本 \\ $HOME *',
  '',
];
const params = Object.fromEntries(VALUES.map((_, i) => [`p${i}`, { type: 'string', default: 'x' }]));
const refs = VALUES.map((_, i) => `\${{parameters.p${i}}}`);
const definition = {
  name: 'adversarial',
  parameters: { ...params, via: { type: 'string', default: 'rest' } },
  steps: {
    shell: {
      command: [
        'node',
        JSON.stringify(DUMP),
        '${{outputs.o}}',
        '${{parameters.via}}',
        ...refs,
        ...refs.map((r) => `"${r}"`),
        ...refs.map((r) => `'${r}'`),
      ].join(' '),
      env: Object.fromEntries(refs.map((r, i) => [`V${i}`, r])),
      outputs: { o: { type: 'file' } },
    },
    list: {
      args: ['node', DUMP, '${{outputs.o}}', '${{parameters.via}}', ...refs.map((r) => `--v=${r}`)],
      outputs: { o: { type: 'file' } },
    },
  },
};
const given = (via: string) => ({ via, ...Object.fromEntries(VALUES.map((v, i) => [`p${i}`, v])) });

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true });
  await publish(sluice, definition);
});
after(() => sluice?.stop());

async function checkRun(runId: string, via: string): Promise<void> {
  const run = await waitForRun(sluice, runId, 60_000);
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps.map((s) => s.error)));
  const read = async (s: string) =>
    JSON.parse(await (await sluice.api(`/api/runs/${runId}/steps/${s}/outputs/o`)).text()) as {
      argv: string[];
      env: Record<string, string>;
    };
  const shell = await read('shell');
  assert.deepEqual(shell.argv, [via, ...VALUES, ...VALUES, ...VALUES], 'unquoted, "double" and \'single\'');
  assert.deepEqual(shell.env, Object.fromEntries(VALUES.map((v, i) => [`V${i}`, v])), 'env values');
  const list = await read('list');
  assert.deepEqual(list.argv, [via, ...VALUES.map((v) => `--v=${v}`)], 'args: one element, one argument');
  assert.equal(fs.existsSync(marker), false, 'nothing a value spells out ran');
  assert.equal(step(await getRun(sluice, runId), 'shell').status, 'Completed');
}

test('through a REST call', async () => {
  await checkRun(await startRun(sluice, 'adversarial', { parameters: given('rest') }), 'rest');
});

test('through a queue message', async () => {
  await sendJson(sluice, 'sluice-runs', { pipeline: 'adversarial', parameters: given('queue') });
  const runs = await eventually('the queued run', async () => {
    const r = await sluice.json<{ items: Array<{ runId: string; trigger: { type: string } }> }>(
      '/api/runs?pipeline=adversarial&limit=20',
    );
    return r.items.find((x) => x.trigger.type === 'queue');
  });
  await checkRun(runs.runId, 'queue');
});

test('through a schedule', async () => {
  await sluice.json('/api/schedules', {
    method: 'POST',
    body: {
      name: 'adversarial-hourly',
      pipeline: 'adversarial',
      cron: '0 * * * *',
      parameters: given('schedule'),
    },
  });
  await sluice.advanceClock(3_600_000);
  const started = await eventually('the scheduled run', async () =>
    (await history(sluice, 'adversarial-hourly')).find((e) => e.decision === 'started' && e.runId),
  );
  await checkRun(started.runId!, 'schedule');
});

test('a value no process can receive (NUL) is a 400 naming the parameter', async () => {
  const res = await sluice.api('/api/pipelines/adversarial/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ parameters: { p0: 'a\u0000b' } }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { status: number; errors: Array<{ pointer: string; message: string }> };
  assert.equal(body.status, 400);
  assert.deepEqual(
    body.errors.map((e) => e.pointer),
    ['/parameters/p0'],
  );
  assert.match(body.errors[0]!.message, /NUL/);
});
