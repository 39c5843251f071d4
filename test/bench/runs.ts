/**
 * Run orchestration benchmarks (issue 5): a 50-step chain of trivial steps (end-to-end time and
 * per-step overhead = (total − Σ process time) / 50), 200 independent steps joined by one final step at
 * maxConcurrency 8, and the all-Reused rerun of the 50-step chain. Each against a fresh Sluice process.
 */
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
): Promise<{ wallMs: number; doc: RunDoc }> {
  const t0 = performance.now();
  const { runId } = await sluice.json<{ runId: string }>(`/api/pipelines/${pipeline}/runs`, {
    method: 'POST',
    body,
  });
  for (;;) {
    const doc = await sluice.json<RunDoc>(`/api/runs/${runId}`);
    if (['Completed', 'Failed', 'Canceled'].includes(doc.status)) {
      if (doc.status !== 'Completed') throw new Error(`run ${runId} ended ${doc.status}`);
      return { wallMs: performance.now() - t0, doc };
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

export async function run(): Promise<void> {
  const sluice = await startSluice();
  try {
    // Distinct commands so that the steps have distinct cache keys.
    const chain: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++)
      chain[`s${i}`] = { command: `true s${i}`, ...(i ? { after: [`s${i - 1}`] } : {}) };
    await sluice.json('/api/pipelines', { method: 'POST', body: { name: 'bench-chain', steps: chain } });
    // Warm-up (JIT, containers, queues), then measure with forceRerun so nothing is reused.
    await runToEnd(sluice, 'bench-chain');
    const c = await runToEnd(sluice, 'bench-chain', { forceRerun: true });
    const total = docMs(c.doc);
    print('chain50_total_ms', total);
    print('chain50_wall_ms', c.wallMs);
    print('chain50_process_ms', processMs(c.doc));
    print('chain50_per_step_overhead_ms', (total - processMs(c.doc)) / 50);
    const b = breakdown(c.doc);
    print('chain50_orchestration_ms_per_step', b.orchestration);
    print('chain50_pickup_ms_per_step', b.pickup);
    print('chain50_agent_ms_per_step', b.agent);

    const reused = await runToEnd(sluice, 'bench-chain');
    if (!reused.doc.steps.every((s) => s.status === 'Reused'))
      throw new Error('the rerun did not reuse every step');
    print('chain50_all_reused_ms', docMs(reused.doc));
    print('chain50_all_reused_wall_ms', reused.wallMs);

    const fan: Record<string, unknown> = {};
    const names: string[] = [];
    for (let i = 0; i < 200; i++) {
      fan[`p${i}`] = { command: `true p${i}` };
      names.push(`p${i}`);
    }
    fan.join = { command: 'true join', after: names };
    await sluice.json('/api/pipelines', {
      method: 'POST',
      body: { name: 'bench-fanin', settings: { maxConcurrency: 8 }, steps: fan },
    });
    const f = await runToEnd(sluice, 'bench-fanin');
    print('fanin200_total_ms', docMs(f.doc));
    print('fanin200_process_ms', processMs(f.doc));
    print('fanin200_ms_per_step', docMs(f.doc) / 201);
  } finally {
    await sluice.stop();
  }
}
