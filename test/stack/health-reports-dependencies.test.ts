import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readStackFile } from '../../lib/stack';
import { startSluice } from '../support/sluice';

test('GET /api/health is 200 with the version while storage and Cosmos answer, 503 naming cosmos when it is down', async () => {
  const sluice = await startSluice();
  try {
    const ok = await sluice.api('/api/health');
    const report: any = await ok.json();
    assert.equal(ok.status, 200, JSON.stringify(report));
    assert.equal(report.status, 'ok');
    assert.match(report.version, /^\d+\.\d+\.\d+/);
    assert.equal(report.dependencies.storage.ok, true);
    assert.equal(report.dependencies.cosmos.ok, true);
    assert.equal(typeof report.dependencies.cosmos.latencyMs, 'number');

    const cosmosPid = readStackFile(sluice.dataDir)!.cosmos!.pid;
    process.kill(cosmosPid, 'SIGKILL');
    // The host notices on the next probe; the Cosmos process is gone once the port refuses.
    let res: Response | undefined;
    let body: any;
    for (let i = 0; i < 50; i++) {
      res = await sluice.api('/api/health');
      body = await res.json();
      if (res.status !== 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(res!.status, 503);
    assert.equal(res!.headers.get('content-type'), 'application/problem+json');
    assert.deepEqual(body.failing, ['cosmos']);
    assert.match(body.detail, /Cosmos DB/);
    assert.equal(body.dependencies.storage.ok, true);
    assert.equal(body.dependencies.cosmos.ok, false);
    assert.ok(!JSON.stringify(body).includes('AccountKey='), 'no credentials in the body');
  } finally {
    await sluice.stop();
  }
});
