import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substitute, unknownPlaceholderMessage, shellQuote } from '../../../lib/compute/placeholders';
import { failureFor } from '../../../lib/compute/failures';
import { decodeMessage, encodeMessage, isLost, tableKey } from '../../../lib/compute/job-row';
import { defaultTargets, loadComputeTargets } from '../../../lib/compute/targets';
import { parseDatasetRef } from '../../../lib/data/datasets';
import { ProblemError } from '../../../lib/errors/problem';

const paths = { inputs: { data: '/w/inputs/data' }, outputs: { model: '/w/out dir/model' } };

test('placeholders become paths (quoted for the shell) and unknown ones are reported', () => {
  const r = substitute(
    'train ${{inputs.data}} ${{ outputs.model }} ${{inputs.nope}} ${{parameters.x}}',
    paths,
    true,
  );
  assert.equal(r.text, "train /w/inputs/data '/w/out dir/model' ${{inputs.nope}} ${{parameters.x}}");
  assert.deepEqual(r.unknown, ['${{inputs.nope}}', '${{parameters.x}}']);
  assert.equal(substitute('${{outputs.model}}', paths).text, '/w/out dir/model', 'env values are not quoted');
  assert.match(
    unknownPlaceholderMessage('command', r.unknown, paths),
    /Known: \$\{\{inputs\.data\}\}, \$\{\{outputs\.model\}\}/,
  );
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test('every way a job ends maps to one failure code', () => {
  assert.equal(failureFor({ kind: 'exit', exitCode: 0, signal: null }), undefined);
  assert.equal(failureFor({ kind: 'exit', exitCode: 3, signal: null })!.code, 'exit-code');
  assert.match(failureFor({ kind: 'exit', exitCode: null, signal: 'SIGSEGV' })!.message, /SIGSEGV/);
  assert.equal(failureFor({ kind: 'timeout', timeoutMs: 5 })!.code, 'timeout');
  assert.equal(failureFor({ kind: 'canceled' })!.code, 'canceled');
  assert.equal(failureFor({ kind: 'lost', message: 'm' })!.code, 'lost');
  assert.equal(failureFor({ kind: 'missing-input', message: 'm' })!.code, 'missing-input');
  assert.equal(failureFor({ kind: 'missing-output', message: 'm' })!.code, 'missing-output');
  assert.equal(failureFor({ kind: 'platform', message: 'm' })!.code, 'platform');
});

test('a running job is lost once its heartbeat is older than the limit', () => {
  const at = Date.parse('2026-01-01T00:00:00Z');
  const row = { state: 'running' as const, heartbeatAt: new Date(at).toISOString() };
  assert.equal(isLost(row, at + 1000, 5000), false);
  assert.equal(isLost(row, at + 5001, 5000), true);
  assert.equal(isLost({ ...row, state: 'succeeded' }, at + 99_999, 5000), false);
  assert.equal(isLost({ state: 'running', claimedAt: new Date(at).toISOString() }, at + 6000, 5000), true);
});

test('queue messages round-trip and table keys are escaped', () => {
  const m = { runId: 'r/1', jobId: 'j#2' };
  assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  assert.deepEqual(decodeMessage(JSON.stringify(m)), m);
  assert.equal(decodeMessage('garbage'), undefined);
  assert.equal(tableKey('a/b#c?d\\e'), 'a%2fb%23c%3fd%5ce');
});

test('compute targets come from SLUICE_COMPUTE_TARGETS, with a local default and clear errors', () => {
  assert.deepEqual(Object.keys(loadComputeTargets({})), ['local']);
  assert.equal(defaultTargets().local!.environment.node, process.version);
  const t = loadComputeTargets({
    SLUICE_COMPUTE_TARGETS: '{"gpu":{"pool":"gpu-a100","environment":{"cuda":"12.4","gpus":8}}}',
  });
  assert.deepEqual(t.gpu, {
    name: 'gpu',
    backend: 'agent',
    pool: 'gpu-a100',
    environment: { cuda: '12.4', gpus: '8' },
  });
  assert.throws(() => loadComputeTargets({ SLUICE_COMPUTE_TARGETS: '{' }), /not valid JSON/);
  assert.throws(
    () => loadComputeTargets({ SLUICE_COMPUTE_TARGETS: '{"x":{"pool":"Bad_Pool"}}' }),
    /\/x\/pool/,
  );
});

test('dataset references parse as name@version or name@latest', () => {
  assert.deepEqual(parseDatasetRef('churn@3'), { name: 'churn', version: 3 });
  assert.deepEqual(parseDatasetRef('churn@latest'), { name: 'churn', version: 'latest' });
  assert.deepEqual(parseDatasetRef('churn'), { name: 'churn', version: 'latest' });
  for (const bad of ['churn@0', 'churn@v1', '@3', 'a b@1', 'x@1@2'])
    assert.throws(
      () => parseDatasetRef(bad, '/inputs/data'),
      (e: unknown) =>
        e instanceof ProblemError && e.status === 400 && e.errors?.[0]?.pointer === '/inputs/data',
      bad,
    );
});
