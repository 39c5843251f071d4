/** Behaviour: package.json "main" globs expand on node:fs; host.json durations and NCRONTAB parse. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandBraces, expandGlob, readAppPackage, AppFolderError } from '../../../lib/host/app-files';
import { parseDuration, queueSettings } from '../../../lib/host/queue-settings';
import { defaultUseMonitor, parseSchedule, TimerScheduleError } from '../../../lib/host/timers';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-glob-'));
  for (const f of [
    'dist/functions/a.js',
    'dist/functions/b.js',
    'dist/functions/b.js.map',
    'dist/functions/sub/c.js',
    'dist/other.mjs',
  ])
    await mkdir(join(dir, f, '..'), { recursive: true }).then(() => writeFile(join(dir, f), ''));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('globs: *, **, {a,b} and plain paths', async () => {
  const rel = async (p: string) => (await expandGlob(dir, p)).map((f) => f.slice(dir.length + 1));
  assert.deepEqual(await rel('dist/functions/*.js'), ['dist/functions/a.js', 'dist/functions/b.js']);
  assert.deepEqual(await rel('dist/**/*.js'), [
    'dist/functions/a.js',
    'dist/functions/b.js',
    'dist/functions/sub/c.js',
  ]);
  assert.deepEqual(await rel('./dist/*.{mjs,cjs}'), ['dist/other.mjs']);
  assert.deepEqual(await rel('dist/functions/a.js'), ['dist/functions/a.js']);
  assert.deepEqual(await rel('missing/*.js'), []);
});

test('a brace alternative may hold a folder, as in dist/src/{index.js,functions/*.js}', async () => {
  const rel = async (p: string) => (await expandGlob(dir, p)).map((f) => f.slice(dir.length + 1));
  // The first alternative loads first (the app's setup and hooks), then the functions.
  assert.deepEqual(await rel('dist/{other.mjs,functions/*.js}'), [
    'dist/other.mjs',
    'dist/functions/a.js',
    'dist/functions/b.js',
  ]);
  assert.deepEqual(await rel('{dist/functions/{a,sub/c}.js,dist/other.mjs}'), [
    'dist/functions/a.js',
    'dist/functions/sub/c.js',
    'dist/other.mjs',
  ]);
  assert.deepEqual(expandBraces('a/{b,c/{d,e}}/f'), ['a/b/f', 'a/c/d/f', 'a/c/e/f']);
  assert.deepEqual(expandBraces('a/{b}.js'), ['a/{b}.js']);
});

test('a main that matches nothing is an actionable error', async () => {
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'x', main: 'build/*.js' }));
  await assert.rejects(
    readAppPackage(dir),
    (e: Error) => e instanceof AppFolderError && /build the app first/.test(e.message),
  );
});

test('host.json durations and queue defaults', () => {
  assert.equal(parseDuration('00:00:02', 'x'), 2000);
  assert.equal(parseDuration('00:00:00.500', 'x'), 500);
  assert.equal(parseDuration('1.02:00:00', 'x'), 26 * 3_600_000);
  assert.throws(() => parseDuration('2s', 'extensions.queues.visibilityTimeout'), /TimeSpan/);
  const q = queueSettings({});
  assert.equal(q.maxPollingIntervalMs, 60_000);
  assert.equal(q.batchSize, 16);
  assert.equal(q.maxDequeueCount, 5);
  assert.equal(q.messageEncoding, 'base64');
  assert.throws(() => queueSettings({ extensions: { queues: { messageEncoding: 'utf8' } } }), /base64/);
});

test('six-field NCRONTAB schedules, seconds first', () => {
  const s = parseSchedule('0 */5 * * * *', 'f');
  assert.equal(
    new Date(s.next(Date.parse('2026-01-01T00:02:03Z'))).toISOString(),
    '2026-01-01T00:05:00.000Z',
  );
  assert.equal(defaultUseMonitor(s, Date.now()), true);
  assert.equal(defaultUseMonitor(parseSchedule('*/10 * * * * *', 'f'), Date.now()), false);
  const monday = parseSchedule('0 30 9 * * Mon', 'f');
  assert.equal(
    new Date(monday.next(Date.parse('2026-01-01T00:00:00Z'))).toISOString(),
    '2026-01-05T09:30:00.000Z',
  );
  assert.throws(
    () => parseSchedule('*/5 * * * *', 'f'),
    (e: Error) => e instanceof TimerScheduleError && /six/.test(e.message),
  );
  assert.throws(() => parseSchedule('0 61 * * * *', 'f'), TimerScheduleError);
});
