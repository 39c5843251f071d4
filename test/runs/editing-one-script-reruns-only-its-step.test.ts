import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packDirectory } from '../../lib/snapshots/pack';
import { HttpError, startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, ROOT, sluiceCli, step, type RunView } from './helpers';

/**
 * The edit-run loop of the README with the churn example, from a terminal: each step names its files in
 * `code: { path, include }`, so after editing one script `sluice run FILE.yaml --wait` reruns that step
 * alone (and those whose inputs changed), `sluice explain` names the file, and a job's working directory
 * holds only its step's files. A pattern that matches nothing is refused at the CLI, at publish and at a
 * draft run, with a pointer to it.
 */

let sluice: SluiceProcess;
let dir: string;
let cli: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;

before(async () => {
  sluice = await startSluice();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-editloop-'));
  fs.cpSync(path.join(ROOT, 'examples', 'churn'), path.join(dir, 'churn'), { recursive: true });
  cli = sluiceCli(sluice);
});
after(async () => {
  await sluice?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const params = ['--param', 'rows=300', '--param', 'epochs=20'];
const churn = (...p: string[]) => path.join(dir, 'churn', ...p);
const runIdOf = (stdout: string) => /run (r-\w+) started/.exec(stdout)![1]!;
const statuses = (run: RunView) => Object.fromEntries(run.steps.map((s) => [s.name, s.status]));

async function draftRun(): Promise<RunView> {
  const out = await cli('run', churn('pipeline.yaml'), ...params, '--wait');
  const run = await getRun(sluice, runIdOf(out.stdout));
  assert.equal(run.status, 'Completed', out.stdout + out.stderr);
  return run;
}

test('after editing one script, a draft run of the file reruns only that step, and explain names the file', async () => {
  const first = await draftRun();
  assert.deepEqual(statuses(first), { prepare: 'Completed', train: 'Completed', evaluate: 'Completed' });

  // evaluate.js is evaluate's alone: prepare and train are Reused from the first draft run.
  fs.appendFileSync(churn('src', 'evaluate.js'), '\n// report wording reviewed\n');
  const second = await draftRun();
  assert.deepEqual(statuses(second), { prepare: 'Reused', train: 'Reused', evaluate: 'Completed' });
  assert.deepEqual(
    step(second, 'evaluate').cache!.changes!.map((c) => c.message),
    ['code: evaluate.js changed'],
  );
  const why = await cli('explain', second.runId, 'evaluate');
  assert.match(why.stdout, /changed since run r-\w+:\n {2}- code: evaluate\.js changed/);

  // train.js: train runs; its model comes out byte for byte the same, so evaluate's inputs are
  // unchanged and it is Reused.
  fs.appendFileSync(churn('src', 'train.js'), '\n// a comment only\n');
  const third = await draftRun();
  assert.deepEqual(statuses(third), { prepare: 'Reused', train: 'Completed', evaluate: 'Reused' });
  assert.equal(
    step(third, 'train')
      .cache!.changes!.map((c) => c.message)
      .join(),
    'code: train.js changed',
  );

  // lib.js is every step's: all three run.
  fs.appendFileSync(churn('src', 'lib.js'), '\n// shared helper note\n');
  const fourth = await draftRun();
  assert.deepEqual(statuses(fourth), { prepare: 'Completed', train: 'Completed', evaluate: 'Completed' });
  assert.equal(
    step(fourth, 'prepare')
      .cache!.changes!.map((c) => c.message)
      .join(),
    'code: lib.js changed',
  );

  // Publishing the same file reuses what the drafts computed.
  assert.match((await cli('publish', churn('pipeline.yaml'))).stdout, /churn-train@1/);
  const published = await getRun(
    sluice,
    runIdOf((await cli('run', 'churn-train', ...params, '--wait')).stdout),
  );
  assert.deepEqual(statuses(published), { prepare: 'Reused', train: 'Reused', evaluate: 'Reused' });
  assert.equal(step(published, 'evaluate').reusedFrom?.runId, fourth.runId);
});

test("a job's working directory holds only the files its step includes", async () => {
  const code = path.join(dir, 'listing', 'code');
  fs.mkdirSync(path.join(code, 'common'), { recursive: true });
  fs.writeFileSync(
    path.join(code, 'list.js'),
    `const fs = require('node:fs');
const walk = (d, p = '') => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(d + '/' + e.name, p + e.name + '/') : [p + e.name]);
fs.writeFileSync(process.argv[2], JSON.stringify(walk('.').sort()));
`,
  );
  fs.writeFileSync(path.join(code, 'common', 'util.js'), 'module.exports = 1;\n');
  fs.writeFileSync(path.join(code, 'other.js'), 'another step’s script\n');
  const file = path.join(dir, 'listing', 'pipeline.yaml');
  fs.writeFileSync(
    file,
    [
      'name: include-listing',
      'steps:',
      '  list:',
      '    command: node list.js ${{outputs.listing}}',
      '    code: { path: ./code, include: [list.js, common] }',
      '    outputs: { listing: { type: file } }',
      '',
    ].join('\n'),
  );
  const out = await cli('run', file, '--wait');
  assert.match(out.stderr, /step list: 2 of 3 files of \.\/code \(common\/util\.js, list\.js\)/);
  const run = await getRun(sluice, runIdOf(out.stdout));
  assert.equal(run.status, 'Completed');
  const res = await sluice.api(`/api/runs/${run.runId}/steps/list/outputs/listing`);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(await res.text()), ['common/util.js', 'list.js']);
});

test('an include that matches no file is a problem with a pointer at the CLI, at publish and at a draft run', async () => {
  const code = path.join(dir, 'listing', 'code');
  const bad = path.join(dir, 'listing', 'bad.yaml');
  fs.writeFileSync(
    bad,
    [
      'name: include-listing',
      'steps:',
      '  list:',
      '    command: node list.js ${{outputs.listing}}',
      '    code:',
      '      path: ./code',
      '      include: [list.js, lists.js, ../secrets]',
      '    outputs: { listing: { type: file } }',
      '',
    ].join('\n'),
  );
  for (const command of ['run', 'publish'])
    await assert.rejects(cli(command, bad), (e: { stderr: string }) => {
      assert.match(
        e.stderr,
        /bad\.yaml:7:\d+: include "lists\.js" matches no file of \.\/code\. Its files: common\/util\.js, list\.js, other\.js\..*\[\/steps\/list\/code\/include\/1\]/,
      );
      assert.match(
        e.stderr,
        /bad\.yaml:7:\d+: include "\.\.\/secrets" climbs out.*\[\/steps\/list\/code\/include\/2\]/,
      );
      assert.match(e.stderr, /2 problems; nothing was published/);
      return true;
    });

  // Over HTTP, against the uploaded snapshot: RFC 7807 with every problem at once.
  const packed = await packDirectory(code);
  const upload = await sluice.api('/api/snapshots', {
    method: 'POST',
    headers: { 'content-type': 'application/gzip' },
    body: new Uint8Array(packed.archive),
  });
  const { ref } = (await upload.json()) as { ref: string };
  const definition = {
    name: 'include-listing',
    steps: {
      list: {
        command: 'node list.js ${{outputs.listing}}',
        code: { path: ref, include: ['list.js', 'lists.js', '../secrets'] },
        outputs: { listing: { type: 'file' } },
      },
    },
  };
  const problem = async (p: string, body: unknown) => {
    const e = await sluice.json(p, { method: 'POST', body }).then(
      () => assert.fail(`${p} should refuse the definition`),
      (x: HttpError) => x,
    );
    assert.equal(e.status, 400);
    return (e.body as { errors: Array<{ pointer: string; message: string }> }).errors;
  };
  const draft = await problem('/api/runs/drafts', { definition });
  assert.deepEqual(
    draft.map((x) => x.pointer),
    ['/definition/steps/list/code/include/1', '/definition/steps/list/code/include/2'],
  );
  assert.match(draft[0]!.message, /include "lists\.js" matches no file/);
  const published = await problem('/api/pipelines', definition);
  assert.deepEqual(
    published.map((x) => x.pointer),
    ['/steps/list/code/include/1', '/steps/list/code/include/2'],
  );

  // A good include is stored as the snapshot of the included files alone.
  definition.steps.list.code.include = ['list.js'];
  const ok = await sluice.json<{ version: number }>('/api/pipelines', { method: 'POST', body: definition });
  const stored = await sluice.json<{ definition: { steps: { list: { code: string } } } }>(
    `/api/pipelines/include-listing/versions/${ok.version}`,
  );
  const narrowed = stored.definition.steps.list.code;
  assert.match(narrowed, /^snapshot:sha256:[0-9a-f]{64}$/);
  assert.notEqual(narrowed, ref);
  const manifest = await sluice.json<{ entries: Array<{ path: string }> }>(
    `/api/snapshots/${narrowed.replace(/^snapshot:/, '')}`,
  );
  assert.deepEqual(
    manifest.entries.map((e) => e.path),
    ['list.js'],
  );
});
