/**
 * Step environments: a build cold (uv, and venv + pip) and warm (from the cache); the agent-side time of
 * a job whose environment is already built against the same job without one (the bound: within
 * 50 ms); two agent processes needing one new environment (builds: 1); and pruning the cache at 50,
 * 1,000 and 10,000 entries. Packages come from a wheelhouse made here (no index).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../../lib/compute/agent';
import type { JobSpec } from '../../lib/compute/job';
import { readJob } from '../../lib/compute/jobs';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { prepareEnvironment } from '../../lib/environments/builder';
import { prune } from '../../lib/environments/cache';
import { normalizeSpec, type EnvironmentSpec } from '../../lib/environments/spec';
import { startTestStack } from '../support/stack';
import { makeWheelhouse, TINY_WHEELS } from '../environments/wheelhouse';

const print = (name: string, value: number | string): void =>
  console.log(`environments.${name} ${typeof value === 'number' ? value.toFixed(1) : value}`);
const norm = (s: EnvironmentSpec) => normalizeSpec(s).spec;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(os.tmpdir(), 'sluice-bench-env-'));
  try {
    const code = join(dir, 'code');
    makeWheelhouse(join(code, 'wheels'), TINY_WHEELS);
    const spec = (pin: string) => norm({ requirements: [pin], findLinks: ['wheels'], noIndex: true });

    for (const tool of ['uv', 'pip'] as const) {
      const cache = join(dir, `cache-${tool}`);
      const cold = await prepareEnvironment(spec('tinyb==1.0.0'), {
        codeDir: code,
        cacheDir: cache,
        tool,
        log: () => undefined,
      });
      cold.release();
      print(`build_cold_${tool}_ms`, cold.ms);
      const warm: number[] = [];
      for (let i = 0; i < 20; i++) {
        const w = await prepareEnvironment(spec('tinyb==1.0.0'), {
          codeDir: code,
          cacheDir: cache,
          tool,
          log: () => undefined,
        });
        w.release();
        warm.push(w.ms);
      }
      print(`build_warm_${tool}_ms_median`, median(warm));
    }

    await jobOverhead(dir, code, spec('tinya==1.0.0'));
    await twoProcesses(dir, code);

    for (const n of [50, 1000, 10_000]) {
      const cache = join(dir, `prune-${n}`);
      await mkdir(cache, { recursive: true });
      for (let i = 0; i < n; i += 200)
        await Promise.all(
          Array.from({ length: Math.min(200, n - i) }, async (_, j) => {
            const key = `k${i + j}`;
            await mkdir(join(cache, key));
            await writeFile(
              join(cache, key, '.sluice-env.json'),
              JSON.stringify({ key, sizeBytes: 1000, lock: [] }),
            );
            await writeFile(join(cache, key, '.last-used'), '');
          }),
        );
      const t = performance.now();
      const removed = await prune(cache, n * 1000, new Set()); // under the limit: a full scan, nothing removed
      print(`prune_scan_${n}_entries_ms`, performance.now() - t);
      if (removed.length) throw new Error('pruned below the limit');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function jobOverhead(dir: string, code: string, spec: ReturnType<typeof norm>): Promise<void> {
  const stack = await startTestStack();
  const envCache = join(dir, 'agent-cache');
  process.env.SLUICE_ENV_CACHE_DIR = envCache;
  const agent = startAgent({
    pool: 'benchenv',
    workDir: join(dir, 'work'),
    log: () => undefined,
    concurrency: 1,
  });
  try {
    await agent.ready;
    // Build it once, as a previous job would have.
    const pre = await prepareEnvironment(spec, { codeDir: code, cacheDir: envCache, log: () => undefined });
    pre.release();
    const absolute = { ...spec, findLinks: [join(code, 'wheels')] };
    const agentMs = async (environment?: ReturnType<typeof norm>): Promise<number> => {
      const job: JobSpec = {
        jobId: `j-${randomUUID().slice(0, 8)}`,
        runId: `bench-${randomUUID().slice(0, 8)}`,
        stepName: 's',
        attempt: 1,
        pool: 'benchenv',
        kind: 'command',
        command: 'python3 -c pass',
        env: {},
        inputs: [],
        outputs: [],
        timeoutMs: 60_000,
        createdAt: new Date().toISOString(),
        ...(environment ? { environment } : {}),
      };
      await enqueueJob(job);
      for (;;) {
        const row = await readJob(job.runId, job.jobId);
        const r = row?.result;
        if (r) {
          if (r.state !== 'succeeded') throw new Error(`bench job failed: ${JSON.stringify(r.failure)}`);
          return Date.parse(r.finishedAt) - Date.parse(r.startedAt!) - (r.processMs ?? 0);
        }
        await sleep(20);
      }
    };
    const plain: number[] = [];
    const withEnv: number[] = [];
    // Warm up both paths first.
    for (let i = 0; i < 3; i++) {
      await agentMs();
      await agentMs(absolute);
    }
    for (let i = 0; i < 20; i++) {
      plain.push(await agentMs());
      withEnv.push(await agentMs(absolute));
    }
    print('job_agent_ms_without_environment_median', median(plain));
    print('job_agent_ms_with_built_environment_median', median(withEnv));
    print('job_start_overhead_of_built_environment_ms', median(withEnv) - median(plain));
  } finally {
    await agent.stop();
    delete process.env.SLUICE_ENV_CACHE_DIR;
    await stack.stop();
  }
}

async function twoProcesses(dir: string, code: string): Promise<void> {
  const cache = join(dir, 'two');
  const script = `
    const { prepareEnvironment } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'environments', 'builder.js'))});
    const t = Date.now();
    prepareEnvironment(${JSON.stringify(norm({ requirements: ['tinyb==1.0.0'], findLinks: ['wheels'], noIndex: true }))},
      { codeDir: ${JSON.stringify(code)}, cacheDir: ${JSON.stringify(cache)}, log: () => {} })
      .then((p) => console.log(JSON.stringify({ built: p.built, ms: Date.now() - t })));`;
  const one = () =>
    new Promise<{ built: boolean; ms: number }>((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', (rc) =>
        rc === 0
          ? resolve(JSON.parse(out) as { built: boolean; ms: number })
          : reject(new Error(`exit ${rc}`)),
      );
    });
  const r = await Promise.all([one(), one()]);
  print('two_processes_one_new_environment_builds', r.filter((x) => x.built).length);
  print('two_processes_one_new_environment_ms', Math.max(...r.map((x) => x.ms)));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
