import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { FIXTURES, ROOT } from './support';

const run = promisify(execFile);
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('on a fresh `sluice start`, the example pipeline publishes from the CLI and republishes unchanged', async () => {
  const publish = () =>
    run(process.execPath, [
      join(ROOT, 'bin', 'sluice.js'),
      '--endpoint',
      sluice.baseUrl,
      'publish',
      join(FIXTURES, 'churn', 'pipeline.yaml'),
    ]);
  assert.equal((await publish()).stdout.trim(), 'churn-train@1');
  assert.equal((await publish()).stdout.trim(), 'churn-train@1 unchanged');
  const p = await sluice.json('/api/pipelines/churn-train');
  assert.deepEqual({ latest: p.latestVersion, enabled: p.enabled }, { latest: 1, enabled: true });
});
