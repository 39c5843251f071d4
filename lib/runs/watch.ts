import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../cli/api-client';
import type { StepRecord } from './store';

/**
 * What the CLI shows of a run: one line per step state change while it runs (`sluice run --wait`,
 * `sluice runs rerun --wait`), and the explanation of a step (`sluice explain`).
 */

export interface StepView {
  name: string;
  status: string;
  attempts: number;
  pool?: string;
  cache?: {
    decision: string;
    reason: string;
    key?: string;
    since?: string;
    changes?: Array<{ message: string }>;
  };
  reusedFrom?: { runId: string; step: string };
  waitingFor?: { runId: string; step: string };
  outputs?: Record<string, { hash: string; type: string; size?: number }>;
  exitCode?: number;
  error?: { code: string; message: string };
  metrics?: Array<{ name: string; value: number }>;
  startedAt?: string;
  finishedAt?: string;
  batches?: StepRecord['batches'];
  batchErrors?: StepRecord['batchErrors'];
  bestTrial?: StepRecord['bestTrial'];
}

export interface RunView {
  runId: string;
  pipeline: string;
  version: number;
  status: string;
  parameters?: Record<string, unknown>;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  rerunOf?: string;
  steps: StepView[];
}

const TERMINAL_RUN = new Set(['Completed', 'Failed', 'Canceled']);

export function describeStep(s: StepView): string {
  switch (s.status) {
    case 'Reused':
      return s.reusedFrom ? `reused from run ${s.reusedFrom.runId} (step ${s.reusedFrom.step})` : 'reused';
    case 'Queued':
      return s.waitingFor
        ? `waiting for run ${s.waitingFor.runId}, which computes the same step`
        : `queued${s.attempts > 1 ? ` (attempt ${s.attempts})` : ''}`;
    case 'Running':
      if (s.batches) {
        const b = s.batches;
        const retrying = b.retrying ? `, ${b.retrying} retrying` : '';
        return `running: ${b.succeeded}/${b.total} batches done, ${b.running} running${retrying}${b.failed ? `, ${b.failed} failed` : ''}`;
      }
      return `running${s.attempts > 1 ? ` (attempt ${s.attempts})` : ''}`;
    case 'Completed': {
      const last = new Map<string, number>();
      for (const x of s.metrics ?? []) last.set(x.name, x.value);
      const m = [...last].slice(-4).map(([name, value]) => `${name}=${round(value)}`);
      const t = s.bestTrial;
      const best = t
        ? `  best trial ${t.index} (${Object.entries(t.parameters)
            .map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : v}`)
            .join(', ')}): ${t.metric}=${round(t.value)}`
        : '';
      return `completed${durationOf(s)}${best}${m.length && !t ? '  ' + m.join(' ') : ''}`;
    }
    case 'Failed':
      return `failed${s.exitCode !== undefined ? ` (exit ${s.exitCode})` : ''}: ${s.error?.message ?? 'no detail'}`;
    case 'Skipped':
    case 'Canceled':
      return `${s.status.toLowerCase()}${s.error ? `: ${s.error.message}` : ''}`;
    default:
      return s.status.toLowerCase();
  }
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

function durationOf(s: StepView): string {
  if (!s.startedAt || !s.finishedAt) return '';
  const ms = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
  return Number.isFinite(ms) ? ` in ${(ms / 1000).toFixed(1)} s` : '';
}

/** The end of a failed step's log; for a mini-batch or trial step, of its latest failed batch attempt. */
async function lastLogLines(client: ApiClient, runId: string, s: StepView, n = 10): Promise<string[]> {
  const e = s.batchErrors?.at(-1);
  const q = e ? `?batch=${e.batch}&attempt=${e.attempt}` : '';
  try {
    const res = await client.fetch(
      `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(s.name)}/logs${q}`,
    );
    const lines = (await res.text()).split('\n').filter((l) => l.length);
    return lines.slice(-n);
  } catch {
    return [];
  }
}

/** Prints each step's state as it changes until the run ends; returns the final run. */
export async function watchRun(
  client: ApiClient,
  runId: string,
  write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<RunView> {
  const seen = new Map<string, string>();
  let width = 0;
  for (let i = 0; ; i++) {
    const run = await client.json<RunView>(`/runs/${encodeURIComponent(runId)}`);
    width = Math.max(width, ...run.steps.map((s) => s.name.length));
    for (const s of run.steps) {
      const line = describeStep(s);
      if (s.status === 'NotStarted' || seen.get(s.name) === line) continue;
      seen.set(s.name, line);
      write(`  ${s.name.padEnd(width)}  ${line}\n`);
      if (s.status === 'Failed')
        for (const l of await lastLogLines(client, runId, s)) write(`  ${' '.repeat(width)}  | ${l}\n`);
    }
    if (TERMINAL_RUN.has(run.status)) {
      const took =
        run.startedAt && run.finishedAt
          ? ` in ${((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1)} s`
          : '';
      write(`run ${run.runId} ${run.status.toLowerCase()}${took}\n`);
      return run;
    }
    await sleep(i < 20 ? 250 : 1000);
  }
}

/** `sluice explain RUN STEP`: why the step ran, or which earlier run it reused. */
export function explainStep(run: RunView, s: StepView): string {
  const lines = [`run ${run.runId} (${run.pipeline} v${run.version}), step ${s.name}: ${s.status}`];
  if (s.status === 'Reused' && s.reusedFrom) {
    lines.push(`reused the outputs of run ${s.reusedFrom.runId}, step ${s.reusedFrom.step}`);
    if (s.cache?.reason) lines.push(`why: ${s.cache.reason}`);
  } else if (s.cache) {
    if (s.cache.changes?.length) {
      lines.push(
        `ran because ${s.cache.changes.length === 1 ? 'this' : 'these'} changed since run ${s.cache.since ?? '(earlier)'}:`,
      );
      for (const c of s.cache.changes) lines.push(`  - ${c.message}`);
    } else lines.push(`ran because: ${s.cache.reason}`);
  } else if (s.status === 'Skipped' || s.status === 'Canceled' || s.status === 'NotStarted') {
    lines.push(s.error?.message ?? 'the step has not been dispatched');
  }
  if (s.cache?.key) lines.push(`cache key: ${s.cache.key}`);
  for (const [name, o] of Object.entries(s.outputs ?? {})) lines.push(`output ${name}: ${o.type} ${o.hash}`);
  return lines.join('\n') + '\n';
}
