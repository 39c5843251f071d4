import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { FIXTURES, publishFixture } from './support';

const ROOT = path.resolve(__dirname, '..', '..', '..');
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'bin', 'sluice.js'), '--endpoint', sluice.baseUrl, ...args],
      {
        cwd: ROOT,
      },
    );
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

test('sluice schedules create, list, show, disable, enable and delete', async () => {
  const fromFile = await cli('schedules', 'create', '-f', path.join(FIXTURES, 'cli', 'nightly.yaml'));
  assert.equal(fromFile.code, 0, fromFile.err);
  assert.match(fromFile.out, /created schedule nightly/);
  assert.match(fromFile.out, /every 1 day in America\/New_York/);

  const fromFlags = await cli(
    'schedules',
    'create',
    'hourly',
    '--pipeline',
    'tick',
    '--cron',
    '0 * * * *',
    '--param',
    'hold=2',
    '--overlap',
    'allow',
  );
  assert.equal(fromFlags.code, 0, fromFlags.err);
  const shown = JSON.parse((await cli('schedules', 'show', 'hourly', '--json')).out);
  assert.deepEqual(shown.parameters, { hold: 2 });
  assert.equal(shown.overlap, 'allow');
  assert.equal(shown.nextFireTimes.length, 5);

  const bad = await cli('schedules', 'create', 'broken', '--pipeline', 'tick', '--cron', '0 25 * * *');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /\/cron: "0 25 \* \* \*" is not a valid cron expression/);

  const list = await cli('schedules', 'list');
  assert.match(list.out, /^NAME\s+PIPELINE/m);
  assert.match(list.out, /^hourly\s+tick\s+cron 0 \* \* \* \*/m);
  assert.match(list.out, /^nightly\s+tick\s+every 1 day/m);

  assert.equal((await cli('schedules', 'disable', 'nightly')).code, 0);
  const disabled = JSON.parse((await cli('schedules', 'show', 'nightly', '--json')).out);
  assert.equal(disabled.enabled, false);
  assert.deepEqual(disabled.nextFireTimes, []);
  const enabled = await cli('schedules', 'enable', 'nightly');
  assert.match(enabled.out, /nightly enabled\nnext: \d{4}-\d\d-\d\dT0[67]:30:00\.000Z/);

  assert.equal((await cli('schedules', 'delete', 'hourly')).code, 0);
  const gone = await cli('schedules', 'show', 'hourly');
  assert.notEqual(gone.code, 0);
  assert.match(gone.err, /no schedule "hourly"/);
});
