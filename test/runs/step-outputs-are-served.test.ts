import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a step’s outputs are served: a file as bytes, a directory as its manifest or one file by ?path=', async () => {
  await publish(sluice, {
    name: 'outputs',
    steps: {
      make: {
        command:
          'printf hello > ${{outputs.greeting}} && mkdir -p ${{outputs.dir}}/sub && printf a > ${{outputs.dir}}/a.txt && printf b > ${{outputs.dir}}/sub/b.txt',
        outputs: { greeting: { type: 'file' }, dir: { type: 'directory' } },
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'outputs'));
  assert.equal(run.status, 'Completed');
  const base = `/api/runs/${run.runId}/steps/make/outputs`;

  const file = await sluice.api(`${base}/greeting`);
  assert.equal(file.status, 200);
  assert.equal(await file.text(), 'hello');

  const manifest = await sluice.json<{ type: string; files: Array<{ path: string; size: number }> }>(
    `${base}/dir`,
  );
  assert.equal(manifest.type, 'directory');
  assert.deepEqual(
    manifest.files.map((f) => [f.path, f.size]),
    [
      ['a.txt', 1],
      ['sub/b.txt', 1],
    ],
  );
  assert.equal(await (await sluice.api(`${base}/dir?path=sub/b.txt`)).text(), 'b');

  const missing = await sluice.api(`${base}/dir?path=nope.txt`);
  assert.equal(missing.status, 404);
  const unknown = await sluice.api(`${base}/model`);
  assert.equal(unknown.status, 404);
  assert.match(((await unknown.json()) as { detail: string }).detail, /its outputs are dir, greeting/);
});
