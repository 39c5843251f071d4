import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice } from '../support/sluice';

test('the dashboard page is served by the function app and reads only documented API routes', async () => {
  const sluice = await startSluice();
  try {
    for (const path of ['/api/dashboard/', '/api/dashboard/runs/anything']) {
      const res = await sluice.api(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const html = await res.text();
      assert.match(html, /<title>Sluice<\/title>/);
    }
    const html = await (await sluice.api('/api/dashboard/')).text();
    // Every API path the page calls exists in the served OpenAPI document.
    const openapi: any = await (await sluice.api('/api/openapi.json')).json();
    const documented = Object.keys(openapi.paths).map(
      (p) => new RegExp('^' + p.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
    );
    const called = [...html.matchAll(/api\('(\/[a-z]+)/g)].map((m) => '/api' + m[1]);
    assert.ok(called.length >= 4, 'the page calls the API');
    for (const path of new Set(called))
      assert.ok(
        documented.some((re) => re.test(path)),
        `${path} is not in /api/openapi.json`,
      );
  } finally {
    await sluice.stop();
  }
});
