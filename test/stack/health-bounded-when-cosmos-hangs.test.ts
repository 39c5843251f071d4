import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readStackFile } from '../../lib/stack';
import { startSluice } from '../support/sluice';

test('health answers 503 naming cosmos when Cosmos hangs (no answer within the budget), and 200 once it answers again', async () => {
  const sluice = await startSluice({ env: { SLUICE_HEALTH_TIMEOUT_MS: '500' } });
  const cosmosPid = readStackFile(sluice.dataDir)!.cosmos!.pid;
  try {
    assert.equal((await sluice.api('/api/health')).status, 200);
    process.kill(cosmosPid, 'SIGSTOP');
    const res = await sluice.api('/api/health');
    const body: any = await res.json();
    assert.equal(res.status, 503);
    assert.deepEqual(body.failing, ['cosmos']);
    assert.match(body.dependencies.cosmos.error, /no answer within 500 ms/);

    process.kill(cosmosPid, 'SIGCONT');
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await sluice.api('/api/health')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
  } finally {
    try {
      process.kill(cosmosPid, 'SIGCONT');
    } catch {
      // already gone
    }
    await sluice.stop();
  }
});
