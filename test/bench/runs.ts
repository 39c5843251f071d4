/**
 * Run engine benchmarks: chains of 50, 200 and 1,000 trivial steps (per-step overhead = (total − Σ
 * process time) / n), 50, 200 and 1,000 independent steps plus a join (8 at a time), and parallelRun
 * over 100, 1,000 and 10,000 one-file mini-batches (per-batch overhead from the step's span), each with
 * the same DAG under Snakemake `-c2` (when installed) or the same per-file command under `xargs -P 8`,
 * and how the per-unit cost grows from the smallest size to the largest.
 */
import { spawn, spawnSync } from 'node:child_process';

/**
 * A peer's command, run without blocking this process: a blocked event loop stops answering the Sluice
 * host it started (which then takes its parent for gone).
 */
function runPeer(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stderr }));
  });
}
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSluice, type SluiceProcess } from '../support/sluice';

interface RunDoc {
  runId: string;
  status: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  steps: Array<{
    name: string;
    status: string;
    processMs?: number;
    queuedAt?: string;
    startedAt?: string;
    finishedAt?: string;
  }>;
}

async function runToEnd(
  sluice: SluiceProcess,
  pipeline: string,
  body: Record<string, unknown> = {},
  timeoutMs = 1_800_000,
): Promise<{ wallMs: number; doc: RunDoc }> {
  const t0 = performance.now();
  const { runId } = await sluice.json<{ runId: string }>(`/api/pipelines/${pipeline}/runs`, {
    method: 'POST',
    body,
  });
  // Polled as a client that waits for the end would: the run's head alone (one read at any size).
  for (;;) {
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`run ${runId} of ${pipeline} took over ${timeoutMs} ms`);
    const head = await sluice.json<{ status: string }>(`/api/runs/${runId}?steps=none`);
    if (['Completed', 'Failed', 'Canceled'].includes(head.status)) {
      const wallMs = performance.now() - t0;
      if (head.status !== 'Completed') throw new Error(`run ${runId} ended ${head.status}`);
      return { wallMs, doc: await sluice.json<RunDoc>(`/api/runs/${runId}`) };
    }
    await sleep(25);
  }
}

function docMs(doc: RunDoc): number {
  return Date.parse(doc.finishedAt!) - Date.parse(doc.createdAt);
}

/**
 * Where a chain's per-step overhead goes, by the step's own timestamps: `orchestration` = previous
 * step's `finishedAt` → this step's `queuedAt` (the previous result's row write and log close, its
 * completion event, the episode, the activity); `pickup` = `queuedAt` → `startedAt` (the claim's stamp:
 * ≈ 0 for a job the host's agent takes as it is enqueued, a queue round trip for a remote agent);
 * `agent` = `startedAt` → `finishedAt` minus the process (row write, working directory, exit, outputs).
 */
function breakdown(doc: RunDoc): { orchestration: number; pickup: number; agent: number } {
  const t = (x?: string): number => Date.parse(x ?? '');
  let o = 0;
  let p = 0;
  let a = 0;
  for (let i = 0; i < doc.steps.length; i++) {
    const s = doc.steps[i]!;
    o += t(s.queuedAt) - (i ? t(doc.steps[i - 1]!.finishedAt) : t(doc.startedAt));
    p += t(s.startedAt) - t(s.queuedAt);
    a += t(s.finishedAt) - t(s.startedAt) - (s.processMs ?? 0);
  }
  const n = doc.steps.length;
  return { orchestration: o / n, pickup: p / n, agent: a / n };
}

const processMs = (doc: RunDoc): number => doc.steps.reduce((s, x) => s + (x.processMs ?? 0), 0);
const print = (name: string, value: number): void => console.log(`runs.${name} ${value.toFixed(1)}`);

/** Chain of `n` distinct trivial steps: per-step overhead = (total − Σ process time) / n. */
async function chain(sluice: SluiceProcess, n: number): Promise<RunDoc> {
  const steps: Record<string, unknown> = {};
  for (let i = 0; i < n; i++)
    steps[`s${i}`] = { command: `true c${n}s${i}`, ...(i ? { after: [`s${i - 1}`] } : {}) };
  await sluice.json('/api/pipelines', { method: 'POST', body: { name: `bench-chain${n}`, steps } });
  const c = await runToEnd(sluice, `bench-chain${n}`, { forceRerun: true });
  const total = docMs(c.doc);
  print(`chain${n}_total_ms`, total);
  print(`chain${n}_per_step_overhead_ms`, (total - processMs(c.doc)) / n);
  const b = breakdown(c.doc);
  print(`chain${n}_orchestration_ms_per_step`, b.orchestration);
  print(`chain${n}_pickup_ms_per_step`, b.pickup);
  print(`chain${n}_agent_ms_per_step`, b.agent);
  return c.doc;
}

/** `n` independent steps and a join, 8 at a time. */
async function fanIn(sluice: SluiceProcess, n: number): Promise<number> {
  const steps: Record<string, unknown> = {};
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    steps[`p${i}`] = { command: `true f${n}p${i}` };
    names.push(`p${i}`);
  }
  steps.join = { command: `true f${n}join`, after: names };
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: { name: `bench-fanin${n}`, settings: { maxConcurrency: 8 }, steps },
  });
  const f = await runToEnd(sluice, `bench-fanin${n}`, { forceRerun: true });
  print(`fanin${n}_total_ms`, docMs(f.doc));
  print(`fanin${n}_ms_per_step`, docMs(f.doc) / (n + 1));
  return docMs(f.doc);
}

const PER_FILE = 'head -c 64 "$(cat ${{minibatch}})" > ${{outputs.o}}';

/** parallelRun over `n` one-file mini-batches (8 at a time); per-batch overhead from the step's own span. */
async function parallel(sluice: SluiceProcess, n: number): Promise<number> {
  const script = join(tmpdir(), 'sluice-bench-make-files.js');
  writeFileSync(
    script,
    'const fs = require("fs"); const [n, d] = process.argv.slice(2); fs.mkdirSync(d, { recursive: true });\n' +
      'for (let i = 0; i < Number(n); i++) fs.writeFileSync(`${d}/f${String(i).padStart(6, "0")}`, `row ${i}\\n`);\n',
  );
  const make = `node ${script} ${n} \${{outputs.files}}`;
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: {
      name: `bench-parallel${n}`,
      settings: { maxConcurrency: 8 },
      steps: {
        make: { command: make, outputs: { files: { type: 'directory' } } },
        score: {
          kind: 'parallelRun',
          input: '${{steps.make.outputs.files}}',
          miniBatchSize: 1,
          command: PER_FILE,
          outputs: { o: { type: 'file' } },
        },
      },
    },
  });
  const r = await runToEnd(sluice, `bench-parallel${n}`, { forceRerun: true }, 3_600_000);
  const s = r.doc.steps.find((x) => x.name === 'score')!;
  const span = Date.parse(s.finishedAt!) - Date.parse(s.startedAt!);
  print(`parallel${n}_step_ms`, span);
  print(`parallel${n}_ms_per_batch`, span / n);
  return span;
}

/** The same per-file command under `xargs -P 8`, for scale. */
async function xargsMs(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-xargs-'));
  try {
    mkdirSync(join(dir, 'in'));
    mkdirSync(join(dir, 'out'));
    for (let i = 0; i < n; i++) writeFileSync(join(dir, 'in', `f${i}`), `row ${i}\n`);
    const t0 = performance.now();
    const r = await runPeer(
      '/bin/sh',
      ['-c', 'ls in | xargs -P 8 -I{} sh -c \'head -c 64 "in/$1" > "out/$1"\' _ {}'],
      dir,
    );
    if (r.status !== 0) throw new Error(`xargs: ${r.stderr}`);
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same DAG under Snakemake `-c2`, when it is installed (Debian: snakemake). */
async function snakemakeMs(shape: 'chain' | 'fanin', n: number): Promise<number | undefined> {
  if (spawnSync('snakemake', ['--version']).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-snake-'));
  try {
    const rules: string[] = [];
    if (shape === 'chain') {
      rules.push(`rule all:\n    input: "s${n - 1}"\n`);
      for (let i = 0; i < n; i++)
        rules.push(
          `rule s${i}:\n${i ? `    input: "s${i - 1}"\n` : ''}    output: "s${i}"\n    shell: "touch {output}"\n`,
        );
    } else {
      rules.push('rule all:\n    input: "join"\n');
      rules.push(
        `rule join:\n    input: [${Array.from({ length: n }, (_, i) => `"p${i}"`).join(', ')}]\n    output: "join"\n    shell: "touch {output}"\n`,
      );
      rules.push('rule p:\n    output: "p{i}"\n    shell: "touch {output}"\n');
    }
    writeFileSync(join(dir, 'Snakefile'), rules.join('\n'));
    const t0 = performance.now();
    // Snakemake builds its DAG recursively: a 1,000-rule chain passes Python's default recursion limit.
    // Run by the interpreter its script names (Debian's, which has the snakemake module).
    const script = spawnSync('sh', ['-c', 'command -v snakemake']).stdout.toString().trim();
    const shebang = /^#!\s*(\S+)/.exec(readFileSync(script, 'utf8').split('\n')[0] ?? '')?.[1] ?? 'python3';
    const r = await runPeer(
      shebang,
      [
        '-c',
        'import sys; sys.setrecursionlimit(100000); from snakemake import main; main()',
        '-c2',
        '--quiet',
      ],
      dir,
    );
    if (r.status !== 0) {
      console.log(
        `# snakemake failed on the ${shape} of ${n}: ${String(r.stderr).split('\n').slice(-3).join(' ')}`,
      );
      return undefined;
    }
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sizes: `SLUICE_BENCH_RUNS_SIZES=small` keeps to the smallest of each shape (a quick look), `medium` to two. */
const SIZES =
  process.env.SLUICE_BENCH_RUNS_SIZES === 'small'
    ? { chain: [50], fanin: [50], parallel: [100] }
    : process.env.SLUICE_BENCH_RUNS_SIZES === 'medium'
      ? { chain: [50, 200], fanin: [50, 200], parallel: [100, 1000] }
      : { chain: [50, 200, 1000], fanin: [50, 200, 1000], parallel: [100, 1000, 10_000] };

/** Shapes: `SLUICE_BENCH_RUNS_SHAPES=chain,fanin` measures only those (all three by default). */
const SHAPES = new Set((process.env.SLUICE_BENCH_RUNS_SHAPES ?? 'chain,fanin,parallel').split(','));

export async function run(): Promise<void> {
  const sluice = await startSluice();
  try {
    // Warm-up (JIT, containers, queues), then measure with forceRerun so nothing is reused.
    const steps: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++)
      steps[`s${i}`] = { command: `true s${i}`, ...(i ? { after: [`s${i - 1}`] } : {}) };
    await sluice.json('/api/pipelines', { method: 'POST', body: { name: 'bench-chain', steps } });
    await runToEnd(sluice, 'bench-chain');
    const c = await runToEnd(sluice, 'bench-chain', { forceRerun: true });
    const b = breakdown(c.doc);
    print('chain50_orchestration_ms_per_step', b.orchestration);
    print('chain50_pickup_ms_per_step', b.pickup);
    print('chain50_agent_ms_per_step', b.agent);
    const reused = await runToEnd(sluice, 'bench-chain');
    if (!reused.doc.steps.every((s) => s.status === 'Reused'))
      throw new Error('the rerun did not reuse every step');
    print('chain50_all_reused_ms', docMs(reused.doc));

    const perStep: number[] = [];
    for (const n of SHAPES.has('chain') ? SIZES.chain : []) {
      const doc = await chain(sluice, n);
      perStep.push((docMs(doc) - processMs(doc)) / n);
      const peer = await snakemakeMs('chain', n);
      if (peer !== undefined) print(`chain${n}_snakemake_ms`, peer);
    }
    if (perStep.length > 1) print('chain_growth_largest_over_smallest', perStep.at(-1)! / perStep[0]!);
    for (const n of SHAPES.has('fanin') ? SIZES.fanin : []) {
      const ms = await fanIn(sluice, n);
      const peer = await snakemakeMs('fanin', n);
      if (peer !== undefined) {
        print(`fanin${n}_snakemake_ms`, peer);
        print(`fanin${n}_ratio_to_snakemake`, ms / peer);
      }
    }
    const perBatch: number[] = [];
    for (const n of SHAPES.has('parallel') ? SIZES.parallel : []) {
      const ms = await parallel(sluice, n);
      perBatch.push(ms / n);
      const peer = await xargsMs(n);
      print(`parallel${n}_xargs_p8_ms`, peer);
      print(`parallel${n}_ratio_to_xargs`, ms / peer);
    }
    if (perBatch.length > 1) print('parallel_growth_largest_over_smallest', perBatch.at(-1)! / perBatch[0]!);
  } finally {
    await sluice.stop();
  }
}
