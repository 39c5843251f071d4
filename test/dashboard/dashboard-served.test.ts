import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice } from '../support/sluice';

test('the dashboard app is served by the function app: its index for every route, its hashed assets, and nothing outside them', async () => {
  const sluice = await startSluice();
  try {
    let html = '';
    for (const path of ['/api/dashboard/', '/api/dashboard/runs/anything']) {
      const res = await sluice.api(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      html = await res.text();
      assert.match(html, /<title>Sluice<\/title>/);
    }
    const assets = [...html.matchAll(/(?:src|href)="\/api\/dashboard\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), html);
    for (const a of assets) {
      const res = await sluice.api(`/api/dashboard/${a}`);
      assert.equal(res.status, 200, a);
      assert.match(res.headers.get('cache-control') ?? '', /immutable/);
      assert.match(res.headers.get('content-type') ?? '', a.endsWith('.js') ? /javascript/ : /text\/css/);
    }
    assert.equal((await sluice.api('/api/dashboard/assets/missing.js')).status, 404);
    // A path that tries to leave the assets folder is the index page, never a file from elsewhere.
    const escape = await sluice.api('/api/dashboard/assets/..%2F..%2Fpackage.json');
    assert.doesNotMatch(await escape.text(), /"dependencies"/);
  } finally {
    await sluice.stop();
  }
});
