import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { SluiceProcess } from '../support/sluice';
import { startPipelinesApi } from './support';
import { example } from '../unit/pipelines/helpers';

let api: SluiceProcess;
before(async () => {
  api = await startPipelinesApi();
});
after(() => api?.stop());

async function post(
  body: string,
  type = 'application/json',
): Promise<{ status: number; type: string | null; doc: any }> {
  const res = await api.api('/api/pipelines', { method: 'POST', headers: { 'content-type': type }, body });
  const text = await res.text();
  let doc: unknown = text;
  try {
    doc = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, type: res.headers.get('content-type'), doc };
}

test('bad definitions answer 400 problem+json naming every problem; none of a thousand fuzzed bodies is a 500', async () => {
  const cyc = stringify({
    name: 'cyc',
    steps: {
      a: { command: 'x', after: ['c'] },
      b: { command: 'x', after: ['a'] },
      c: { command: 'x', after: ['b'] },
    },
  });
  const cycle = await post(cyc, 'application/yaml');
  assert.equal(cycle.status, 400);
  assert.equal(cycle.type, 'application/problem+json');
  assert.match(cycle.doc.errors[0].message, /a → b → c → a/);
  assert.match(cycle.doc.detail, /cycle/);

  const yamlError = await post('name: abc\nsteps:\n  a: [oops\n', 'application/yaml');
  assert.equal(yamlError.status, 400);
  assert.match(yamlError.doc.errors[0].message, /line \d+, column \d+/);

  const dup = await post('{"name":"abc","steps":{"a":{"command":"x"},"a":{"command":"y"}}}');
  assert.equal(dup.status, 400);
  assert.match(dup.doc.errors[0].message, /step "a" is defined twice/);

  const local = example();
  local.steps.prep.code = './src';
  const notRef = await post(JSON.stringify(local));
  assert.equal(notRef.status, 400);
  assert.equal(notRef.doc.errors[0].pointer, '/steps/prep/code');

  local.steps.prep.code = 'snapshot:sha256:' + 'e'.repeat(64);
  const unknownSnapshot = await post(JSON.stringify(local));
  assert.equal(unknownSnapshot.status, 400);
  assert.match(unknownSnapshot.doc.errors[0].message, /no snapshot/);

  assert.equal((await post('name: x', 'text/plain')).status, 415);
  assert.equal((await post('')).status, 400);
  assert.equal((await post('{"name": ')).status, 400);

  // Fuzz through the real endpoint: mutated JSON, mutated YAML text, random bytes.
  const base = JSON.stringify(example());
  const yaml = stringify(example());
  const bodies = fc.sample(
    fc.oneof(
      fc.tuple(fc.nat(base.length), fc.nat(12), fc.string({ maxLength: 6 })).map(([at, cut, ins]) => ({
        body: base.slice(0, at) + ins + base.slice(at + cut),
        type: 'application/json',
      })),
      fc.tuple(fc.nat(yaml.length), fc.nat(12), fc.string({ maxLength: 6 })).map(([at, cut, ins]) => ({
        body: yaml.slice(0, at) + ins + yaml.slice(at + cut),
        type: 'application/yaml',
      })),
      fc.jsonValue({ maxDepth: 3 }).map((v) => ({ body: JSON.stringify(v), type: 'application/json' })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ body: s, type: 'application/yaml' })),
    ),
    { numRuns: 1000, seed: 4242 },
  );
  const statuses = new Map<number, number>();
  for (let i = 0; i < bodies.length; i += 20) {
    const batch = await Promise.all(bodies.slice(i, i + 20).map((b) => post(b.body, b.type)));
    for (const [j, r] of batch.entries()) {
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      assert.ok(
        r.status < 500,
        `body ${JSON.stringify(bodies[i + j])} answered ${r.status}: ${JSON.stringify(r.doc)}`,
      );
      if (r.status === 400) assert.ok(Array.isArray(r.doc.errors) && r.doc.errors.length > 0);
    }
  }
  assert.ok((statuses.get(400) ?? 0) > 500, JSON.stringify([...statuses]));
});
