import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { prepareEnvironment, EnvironmentError } from '../../lib/environments/builder';
import { normalizeSpec, type EnvironmentSpec } from '../../lib/environments/spec';
import { prune } from '../../lib/environments/cache';
import { prepareStepEnvironment } from '../../lib/environments/agent-hook';
import { makeWheelhouse, TINY_WHEELS } from './wheelhouse';

const norm = (s: EnvironmentSpec) => normalizeSpec(s).spec;

async function scratch(): Promise<{ dir: string; code: string; cache: string; wheels: string }> {
  const dir = await mkdtemp(join(os.tmpdir(), 'sluice-envtest-'));
  const code = join(dir, 'code');
  const wheels = makeWheelhouse(join(code, 'wheels'), TINY_WHEELS);
  return { dir, code, cache: join(dir, 'cache'), wheels };
}

for (const tool of ['uv', 'pip'] as const) {
  test(`a Python environment (${tool}) builds offline from a wheelhouse once, then comes from the cache with its lock`, async () => {
    const s = await scratch();
    try {
      const spec = norm({ python: '3', requirements: ['tinyb'], findLinks: ['wheels'], noIndex: true });
      const lines: string[] = [];
      const first = await prepareEnvironment(spec, {
        codeDir: s.code,
        cacheDir: s.cache,
        tool,
        log: (l) => lines.push(l),
      });
      first.release();
      assert.equal(first.built, true);
      assert.deepEqual(
        first.lock,
        ['tinya==2.0.0', 'tinyb==1.0.0'],
        'the lock has exact versions, dependencies too',
      );
      assert.ok(
        lines.some((l) => /building environment/.test(l)),
        'the build is announced in the log',
      );
      assert.ok(
        lines.some((l) => /tinyb/.test(l)),
        'the installer output is streamed to the log',
      );

      // The venv moved into place works: its python sees the packages and the Sluice helper.
      const py = join(first.env.VIRTUAL_ENV!, 'bin', 'python');
      const out = execFileSync(
        py,
        ['-c', 'import tinya, tinyb, sluice, azureml.core; print(tinya.__version__)'],
        {
          env: { ...process.env, ...first.env },
        },
      ).toString();
      assert.equal(out.trim(), '2.0.0');
      // And `python` on the PATH it gives is the environment's.
      const which = execFileSync('python', ['-c', 'import sys; print(sys.prefix)'], {
        env: { ...process.env, ...first.env },
      });
      assert.equal(which.toString().trim(), first.env.VIRTUAL_ENV);

      const second = await prepareEnvironment(spec, {
        codeDir: s.code,
        cacheDir: s.cache,
        tool,
        log: () => undefined,
      });
      second.release();
      assert.equal(second.built, false);
      assert.equal(second.hash, first.hash);
      assert.deepEqual(second.lock, first.lock);
      assert.deepEqual(
        (await readdir(s.cache)).filter((n) => !n.startsWith('.') && !n.endsWith('.lock')).length,
        1,
        'one cache entry, no build directories left behind',
      );
    } finally {
      await rm(s.dir, { recursive: true, force: true });
    }
  });
}

test('two concurrent jobs needing one new environment build it once', async () => {
  const s = await scratch();
  try {
    const spec = norm({ requirements: ['tinya==1.0.0'], findLinks: ['wheels'], noIndex: true });
    const [a, b] = await Promise.all([
      prepareEnvironment(spec, { codeDir: s.code, cacheDir: s.cache, log: () => undefined }),
      prepareEnvironment(spec, { codeDir: s.code, cacheDir: s.cache, log: () => undefined }),
    ]);
    a.release();
    b.release();
    assert.equal([a.built, b.built].filter(Boolean).length, 1);
    assert.equal(a.hash, b.hash);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('two agent processes needing one new environment build it once (the lock file)', async () => {
  const s = await scratch();
  try {
    const script = `
      const { prepareEnvironment } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'environments', 'builder.js'))});
      prepareEnvironment(${JSON.stringify(norm({ requirements: ['tinya==2.0.0'], findLinks: ['wheels'], noIndex: true }))},
        { codeDir: ${JSON.stringify(s.code)}, cacheDir: ${JSON.stringify(s.cache)}, log: () => {} })
        .then((p) => { console.log(JSON.stringify({ built: p.built, hash: p.hash })); });`;
    const run = () =>
      new Promise<{ built: boolean; hash: string }>((resolve, reject) => {
        const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.on('close', (code) =>
          code === 0
            ? resolve(JSON.parse(out) as { built: boolean; hash: string })
            : reject(new Error(`exit ${code}`)),
        );
      });
    const [a, b] = await Promise.all([run(), run()]);
    assert.equal(a.hash, b.hash);
    assert.equal([a.built, b.built].filter(Boolean).length, 1, 'exactly one process built it');
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a requirement that does not resolve fails with an EnvironmentError naming the package and the reason', async () => {
  const s = await scratch();
  try {
    for (const tool of ['uv', 'pip'] as const) {
      const spec = norm({ requirements: ['tinya==9.9.9'], findLinks: ['wheels'], noIndex: true });
      const err = await prepareEnvironment(spec, {
        codeDir: s.code,
        cacheDir: s.cache,
        tool,
        log: () => undefined,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof EnvironmentError, `${tool}: ${String(err)}`);
      assert.match(err.message, /tinya/, `${tool} names the package: ${err.message}`);
      assert.match(err.message, /9\.9\.9/, `${tool} gives the version asked for: ${err.message}`);
      assert.equal(existsSync(join(s.cache, 'x')), false);
      const left = (await readdir(s.cache)).filter((n) => !n.endsWith('.lock'));
      assert.deepEqual(left, [], `${tool}: nothing half-built is left in the cache`);
    }
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('requirements.txt and pyproject.toml in the code are installed, and their content is in the key', async () => {
  const s = await scratch();
  try {
    await writeFile(join(s.code, 'requirements.txt'), 'tinya==1.0.0\n');
    await writeFile(
      join(s.code, 'pyproject.toml'),
      '[project]\nname = "x"\nversion = "0"\ndependencies = ["tinyb==1.0.0"]\n',
    );
    const opts = { codeDir: s.code, cacheDir: s.cache, log: () => undefined };
    const r = await prepareEnvironment(
      norm({ requirements: 'requirements.txt', findLinks: ['wheels'], noIndex: true }),
      opts,
    );
    r.release();
    assert.deepEqual(r.lock, ['tinya==1.0.0']);
    const p = await prepareEnvironment(
      norm({ requirements: 'pyproject.toml', findLinks: ['wheels'], noIndex: true }),
      opts,
    );
    p.release();
    assert.deepEqual(p.lock, ['tinya==2.0.0', 'tinyb==1.0.0']);
    await writeFile(join(s.code, 'requirements.txt'), 'tinya==2.0.0\n');
    const r2 = await prepareEnvironment(
      norm({ requirements: 'requirements.txt', findLinks: ['wheels'], noIndex: true }),
      opts,
    );
    r2.release();
    assert.notEqual(r2.hash, r.hash, 'an edited requirements.txt is another environment');
    assert.deepEqual(r2.lock, ['tinya==2.0.0']);

    const missing = await prepareEnvironment(norm({ requirements: 'nope.txt' }), opts).catch(
      (e: unknown) => e,
    );
    assert.ok(missing instanceof EnvironmentError);
    assert.match(missing.message, /nope\.txt/);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('the cache is pruned least recently used first down to its size limit, sparing environments in use', async () => {
  const s = await scratch();
  try {
    const opts = { codeDir: s.code, cacheDir: s.cache, log: () => undefined };
    const a = await prepareEnvironment(
      norm({ requirements: ['tinya==1.0.0'], findLinks: ['wheels'], noIndex: true }),
      opts,
    );
    a.release();
    await new Promise((r) => setTimeout(r, 20));
    const b = await prepareEnvironment(
      norm({ requirements: ['tinya==2.0.0'], findLinks: ['wheels'], noIndex: true }),
      opts,
    );
    // b is in use; a is older: a limit of 1 byte removes a only.
    const removed = await prune(s.cache, 1, new Set([b.hash.replace('sha256:', '')]));
    b.release();
    assert.deepEqual(removed, [a.hash.replace('sha256:', '')]);
    assert.ok(existsSync(join(s.cache, b.hash.replace('sha256:', ''))));
    const again = await prepareEnvironment(
      norm({ requirements: ['tinya==1.0.0'], findLinks: ['wheels'], noIndex: true }),
      opts,
    );
    again.release();
    assert.equal(again.built, true, 'a pruned environment is built again when needed');
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('an environment asking for a Python this machine lacks fails clearly, before any build', async () => {
  const s = await scratch();
  try {
    const err = await prepareEnvironment(norm({ python: '2.7', requirements: ['tinya'] }), {
      codeDir: s.code,
      cacheDir: s.cache,
      log: () => undefined,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof EnvironmentError);
    assert.match(err.message, /none of which satisfies "2\.7"/);
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test("a rebuild elsewhere installs the first build's recorded lock, not a newer resolution", async () => {
  const s = await scratch();
  try {
    const recorded = new Map<string, string[]>();
    const lockStore = {
      get: async (k: string) => recorded.get(k),
      put: async (k: string, lock: string[]) => void (recorded.has(k) || recorded.set(k, lock)),
    };
    const spec = norm({ requirements: ['tinya'], findLinks: ['wheels'], noIndex: true });
    const first = await prepareEnvironment(spec, {
      codeDir: s.code,
      cacheDir: s.cache,
      lockStore,
      log: () => undefined,
    });
    first.release();
    assert.deepEqual(first.lock, ['tinya==2.0.0'], 'unpinned: the newest in the wheelhouse');
    assert.deepEqual([...recorded.values()], [['tinya==2.0.0']], 'the first build records its lock');

    // The first build happened when only 1.0.0 existed: another machine must get 1.0.0, not 2.0.0.
    recorded.set(first.hash.replace('sha256:', ''), ['tinya==1.0.0']);
    const lines: string[] = [];
    const other = await prepareEnvironment(spec, {
      codeDir: s.code,
      cacheDir: join(s.dir, 'other-machine'),
      lockStore,
      log: (l) => lines.push(l),
    });
    other.release();
    assert.equal(other.hash, first.hash);
    assert.deepEqual(other.lock, ['tinya==1.0.0']);
    assert.ok(lines.some((l) => /installing the lock recorded/.test(l)));
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test("a build longer than the step's timeout is killed and fails the job as platform (retried), leaving nothing", async () => {
  const s = await scratch();
  try {
    const r = await prepareStepEnvironment(
      norm({ requirements: ['tinyb'], findLinks: ['wheels'], noIndex: true }),
      {
        codeDir: s.code,
        cacheDir: s.cache,
        log: () => undefined,
        timeoutMs: 30,
      },
    );
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.code === 'platform' && /longer than the step's timeout \(30 ms\)/.test(r.message));
    // The killed build cleans up after itself (asynchronously), its lock last: wait for that, up to 20 s.
    let left: string[] = [];
    for (let i = 0; i < 100; i++) {
      await new Promise((res) => setTimeout(res, 200));
      const all = await readdir(s.cache).catch(() => [] as string[]);
      left = all.filter((n) => !n.endsWith('.lock'));
      if (all.length === 0) break;
    }
    assert.deepEqual(left, [], 'the half-built environment is removed');
  } finally {
    await rm(s.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});
