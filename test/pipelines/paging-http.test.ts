import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SluiceProcess } from '../support/sluice';
import { startPipelinesApi } from './support';

let api: SluiceProcess;
before(async () => {
  api = await startPipelinesApi();
});
after(() => api?.stop());

async function all(path: string): Promise<{ items: unknown[]; pages: number }> {
  const items: unknown[] = [];
  let pages = 0;
  let next: string | undefined = path;
  while (next) {
    const page: { items: unknown[]; next?: string } = await api.json(next);
    items.push(...page.items);
    pages++;
    next = page.next;
  }
  return { items, pages };
}

test('pipelines and versions page with continuation tokens, and a bad token is a 400', async () => {
  for (let i = 0; i < 5; i++)
    await api.json('/api/pipelines', {
      method: 'POST',
      body: { name: `page-${i}`, steps: { a: { command: 'true' } } },
    });
  for (let v = 1; v <= 4; v++)
    await api.json('/api/pipelines', {
      method: 'POST',
      body: { name: 'page-0', steps: { a: { command: `v${v}` } } },
    });

  const pipelines = await all('/api/pipelines?limit=2');
  assert.deepEqual(pipelines.items.map((p) => (p as { name: string }).name).sort(), [
    'page-0',
    'page-1',
    'page-2',
    'page-3',
    'page-4',
  ]);
  assert.ok(pipelines.pages >= 3, `expected several pages, got ${pipelines.pages}`);

  const versions = await all('/api/pipelines/page-0/versions?limit=2');
  assert.deepEqual(
    versions.items.map((v) => (v as { version: number }).version),
    [5, 4, 3, 2, 1],
  );

  assert.equal((await api.api('/api/pipelines?limit=0')).status, 400);
  const bad = await api.api('/api/pipelines?continuationToken=garbage');
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as any).errors[0].pointer, '/continuationToken');
});
