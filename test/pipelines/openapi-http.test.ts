import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '@readme/openapi-parser';
import type { SluiceProcess } from '../support/sluice';
import { startPipelinesApi } from './support';

let api: SluiceProcess;
before(async () => {
  api = await startPipelinesApi();
});
after(() => api?.stop());

test('the served OpenAPI document validates and the pipeline JSON Schema is served for editors', async () => {
  const doc = await api.json('/api/openapi.json');
  assert.equal(doc.openapi, '3.1.0');
  const result = await validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result));
  assert.ok(
    doc.paths['/api/pipelines'].post && doc.paths['/api/snapshots'].post && doc.paths['/api/runs/{id}'].get,
  );

  const res = await api.api('/api/schemas/pipeline.json');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/schema+json');
  const schema = (await res.json()) as { properties: Record<string, unknown> };
  assert.ok(schema.properties.steps);
});
