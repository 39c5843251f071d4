import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { prepareEnvironment, EnvironmentError } from '../../lib/environments/builder';
import { normalizeSpec } from '../../lib/environments/spec';

const FIXTURE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'npm-app');

test('a Node environment installs package-lock.json with npm ci once, and the step finds its modules', async () => {
  const dir = await mkdtemp(join(os.tmpdir(), 'sluice-npmenv-'));
  try {
    const cache = join(dir, 'cache');
    const codes = [join(dir, 'job1'), join(dir, 'job2')];
    for (const c of codes) cpSync(FIXTURE, c, { recursive: true });
    const spec = normalizeSpec({ node: '>=20', npm: true }).spec;
    const first = await prepareEnvironment(spec, {
      codeDir: codes[0]!,
      cacheDir: cache,
      log: () => undefined,
    });
    first.release();
    assert.equal(first.built, true);
    assert.deepEqual(first.lock, ['ms==2.1.3']);
    assert.ok(
      lstatSync(join(codes[0]!, 'node_modules')).isSymbolicLink(),
      "the job's node_modules is the environment's",
    );
    const out = execFileSync('node', ['index.js'], {
      cwd: codes[0],
      env: { ...process.env, ...first.env },
    }).toString();
    assert.match(out, /ms\(2 days\) = 172800000; ms version 2\.1\.3/);

    const second = await prepareEnvironment(spec, {
      codeDir: codes[1]!,
      cacheDir: cache,
      log: () => undefined,
    });
    second.release();
    assert.equal(second.built, false, 'another job with the same lockfile takes it from the cache');
    assert.ok(existsSync(join(codes[1]!, 'node_modules', 'ms', 'package.json')));

    const missing = await prepareEnvironment(normalizeSpec({ npm: 'nowhere' }).spec, {
      codeDir: codes[0]!,
      cacheDir: cache,
      log: () => undefined,
    }).catch((e: unknown) => e);
    assert.ok(missing instanceof EnvironmentError);
    assert.match(missing.message, /package\.json/);

    const tooNew = await prepareEnvironment(normalizeSpec({ node: '>=99' }).spec, {
      codeDir: codes[0]!,
      cacheDir: cache,
      log: () => undefined,
    }).catch((e: unknown) => e);
    assert.ok(tooNew instanceof EnvironmentError);
    assert.match(tooNew.message, /does not satisfy ">=99"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a Python environment resolves a small package from the real PyPI', async () => {
  const dir = await mkdtemp(join(os.tmpdir(), 'sluice-pypienv-'));
  try {
    const spec = normalizeSpec({ python: '3', requirements: ['six==1.16.0'] }).spec;
    const r = await prepareEnvironment(spec, {
      codeDir: dir,
      cacheDir: join(dir, 'cache'),
      log: () => undefined,
    });
    r.release();
    assert.deepEqual(r.lock, ['six==1.16.0']);
    const out = execFileSync('python', ['-c', 'import six; print(six.__version__)'], {
      env: { ...process.env, ...r.env },
    }).toString();
    assert.equal(out.trim(), '1.16.0');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
