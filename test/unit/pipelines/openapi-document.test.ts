import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from '@readme/openapi-parser';
import { buildOpenApi } from '../../../lib/api/openapi';
import { pipelineJsonSchema } from '../../../lib/pipelines/schema';

const ROOT = join(__dirname, '..', '..', '..', '..');

/** Every `app.http` route and method in functions/*.ts, read from the source. */
function registeredRoutes(): Array<{ method: string; path: string; file: string }> {
  const dir = join(ROOT, 'functions');
  const out: Array<{ method: string; path: string; file: string }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(join(dir, file), 'utf8');
    for (const m of src.matchAll(/app\.http\(\s*'[^']+'\s*,\s*\{([\s\S]*?)\}\s*\)/g)) {
      const body = m[1]!;
      const route = /route:\s*'([^']+)'/.exec(body)?.[1];
      const methods = /methods:\s*\[([^\]]*)\]/.exec(body)?.[1];
      if (!route || !methods) continue;
      const path = '/api/' + route.replace(/\{\*?([A-Za-z0-9_]+)(?::[^}]*)?\??\}/g, '{$1}');
      for (const meth of methods.matchAll(/'([A-Z]+)'/g))
        out.push({ method: meth[1]!.toLowerCase(), path, file });
    }
  }
  return out;
}

test('the OpenAPI document is valid OpenAPI 3.1 and covers every HTTP route the app registers', async () => {
  const doc = buildOpenApi();
  const result = await validate(structuredClone(doc) as never);
  assert.equal(result.valid, true, JSON.stringify(result));
  const paths = doc.paths as Record<string, Record<string, unknown>>;
  const routes = registeredRoutes();
  assert.ok(routes.length >= 10, `found only ${routes.length} routes`);
  const missing = routes
    .filter((r) => !paths[r.path]?.[r.method])
    .map((r) => `${r.method.toUpperCase()} ${r.path} (${r.file})`);
  assert.deepEqual(missing, [], 'add these to lib/api/routes/<feature>.ts');
});

test('the JSON Schema for editors is draft 2020-12 and describes the definition', () => {
  const s = pipelineJsonSchema() as {
    $schema: string;
    properties: Record<string, unknown>;
    required: string[];
  };
  assert.match(s.$schema, /2020-12/);
  assert.deepEqual(s.required.sort(), ['name', 'steps']);
  assert.ok(s.properties.parameters && s.properties.settings && s.properties.steps);
});
