import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SluiceProcess } from '../support/sluice';
import { FIXTURES, ROOT, startPipelinesApi } from './support';

let api: SluiceProcess;
const work = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
before(async () => {
  api = await startPipelinesApi();
  cpSync(join(FIXTURES, 'churn'), join(work, 'churn'), { recursive: true });
});
after(async () => {
  rmSync(work, { recursive: true, force: true });
  await api?.stop();
});

/** Runs the real CLI (`node bin/sluice.js …`) against the test host. */
function sluice(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'sluice.js'), '--endpoint', api.baseUrl, ...args],
      {
        cwd: work,
        env: { ...process.env, SLUICE_ENDPOINT: '', SLUICE_KEY: '' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('sluice publish packs code, publishes, is idempotent, versions a change, and prints problems as file:line:col', async () => {
  const file = join(work, 'churn', 'pipeline.yaml');
  // Ignored files must not change the snapshot.
  writeFileSync(join(work, 'churn', 'src', 'debug.log'), 'noise');

  let r = await sluice('publish', '--dry-run', 'churn/pipeline.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'churn-train: valid (nothing was uploaded or published)');
  assert.equal(((await api.json('/api/pipelines')) as { items: unknown[] }).items.length, 0);

  r = await sluice('publish', 'churn/pipeline.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'churn-train@1');
  assert.match(r.stderr, /packed \.\/src: 3 files/);

  writeFileSync(join(work, 'churn', 'src', 'debug.log'), 'different noise');
  r = await sluice('publish', 'churn/pipeline.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'churn-train@1 unchanged');

  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(
      'epochs: { type: integer, default: 3 }',
      'epochs: { type: integer, default: 5 }',
    ),
  );
  r = await sluice('publish', 'churn/pipeline.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'churn-train@2');

  const stored = await api.json('/api/pipelines/churn-train/versions/2');
  assert.match(stored.definition.steps.prep.code, /^snapshot:sha256:[0-9a-f]{64}$/);
  assert.equal(stored.definition.parameters.epochs.default, 5);

  // A broken copy: a typo, a reference to a missing output and a wrong default type.
  const broken = readFileSync(file, 'utf8')
    .replace('reuse: true', 'reuze: true')
    .replace('${{steps.prep.outputs.clean}}', '${{steps.prep.outputs.cleaned}}')
    .replace('default: 5', 'default: "5"');
  writeFileSync(join(work, 'churn', 'broken.yaml'), broken);
  r = await sluice('publish', 'churn/broken.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0]!, /^churn\/broken\.yaml:4:37: The default of parameter "epochs" must be an integer/);
  assert.ok(
    lines.some((l) =>
      /^churn\/broken\.yaml:18:22: Step "prep" has no output "cleaned"\. Did you mean "clean"\?/.test(l),
    ),
    r.stderr,
  );
  assert.ok(
    lines.some((l) => /^churn\/broken\.yaml:22:5: Unknown field "reuze"\. Did you mean "reuse"\?/.test(l)),
    r.stderr,
  );
  assert.match(lines[lines.length - 1]!, /3 problems; nothing was published/);

  // A cycle is named.
  writeFileSync(
    join(work, 'churn', 'cycle.yaml'),
    'name: cyc\nsteps:\n  a: { command: x, after: [b] }\n  b: { command: x, after: [a] }\n',
  );
  r = await sluice('publish', 'churn/cycle.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /churn\/cycle\.yaml:3:\d+: These steps form a cycle: a → b → a/);

  r = await sluice('pipelines', 'list');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /churn-train\s+2\s+2\s+yes/);
  r = await sluice('pipelines', 'show', 'churn-train');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /latest:\s+2/);
  r = await sluice('pipelines', 'show', 'churn-train@1');
  assert.match(r.stdout, /# churn-train@1 sha256:/);
  assert.match(r.stdout, /default: 3/);
});
