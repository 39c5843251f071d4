import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApiClient } from '../../lib/cli/api-client';
import { publishFile } from '../../lib/cli/commands/publish';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, runsOf } from '../schedules/support';
import { peekAll } from './support';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'batch-scoring');

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

async function upload(name: string, file: string): Promise<void> {
  const res = await sluice.api(`/api/datasets/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: readFileSync(file),
  });
  assert.ok(res.ok, `${name}: ${res.status} ${await res.text()}`);
}

test('batch scoring from the README: a queue message scores a dataset and the scores land in the named dataset', async () => {
  await publishFile(path.join(EXAMPLE, 'pipeline.yaml'), new ApiClient({ endpoint: sluice.baseUrl }), {
    log: () => {},
    err: (s) => process.stderr.write(s + '\n'),
  });
  await upload('churn-model', path.join(EXAMPLE, 'model.json'));
  await upload('customers', path.join(EXAMPLE, 'data', 'customers.csv'));

  // The README's command, as another system would run it.
  const send = (...args: string[]) =>
    promisify(execFile)(process.execPath, [path.join(EXAMPLE, 'send-message.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, AzureWebJobsStorage: sluice.env.AzureWebJobsStorage! },
    });
  const { stdout } = await send();
  assert.match(stdout, /sent .*message\.json to sluice-runs/);

  const delivery = await eventually(
    'the scores to be delivered',
    async () => {
      const d = await sluice.json('/api/triggers/queue/deliveries');
      return d.items.find((e: any) => e.decision !== 'awaitingRun');
    },
    120_000,
  );
  assert.equal(delivery.decision, 'delivered', JSON.stringify(delivery));
  const landed = delivery.delivered['score.scores'];
  assert.equal(landed.dataset, 'customer-scores');
  assert.equal(landed.version, 1);

  const version = await sluice.json('/api/datasets/customer-scores/versions/1');
  assert.equal(version.hash, landed.hash);
  const csv = await (await sluice.api(`/api/artifacts/${landed.hash}`)).text();
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'id,score,churn');
  assert.equal(lines.length, 9, 'one score per customer');
  assert.match(lines[1]!, /^c-001,0\.\d{4},1$/);
  assert.match(lines[2]!, /^c-002,0\.\d{4},0$/);

  const [reply] = await eventually('the reply', async () => {
    const r = await peekAll(sluice, 'scoring-results');
    return r.length > 0 && r;
  });
  assert.equal(reply.status, 'Completed');
  assert.equal(reply.outputs.score.scores.hash, landed.hash);

  // Sending the same message again (same idempotencyKey), this time base64-encoded, starts nothing new and
  // delivers nothing twice.
  assert.match((await send('--base64')).stdout, /to sluice-runs \(base64\)/);
  await sluice.waitForOutput(/already started run/);
  assert.equal((await runsOf(sluice, 'batch-scoring')).length, 1);
  const d = await sluice.json('/api/triggers/queue/deliveries');
  assert.equal(d.items.length, 1);
});
