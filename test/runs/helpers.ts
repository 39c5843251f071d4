/**
 * Shared pieces of the run scenarios: a running Sluice (test/support), pipelines built from the step
 * script in fixtures/step.js (which journals start/end times to a file outside the host), and waiting.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { StepRecord } from '../../lib/runs/store';
import type { SluiceProcess } from '../support/sluice';

export const STEP_SCRIPT = path.resolve(__dirname, '..', '..', '..', 'test', 'runs', 'fixtures', 'step.js');

export interface JournalEntry {
  name: string;
  what: 'start' | 'end' | 'fail';
  pid: number;
  t: number;
}

export function tempJournal(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-runs-'));
  return path.join(dir, 'journal.jsonl');
}

export function readJournal(file: string): JournalEntry[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalEntry);
}

export function starts(file: string, name?: string): number {
  return readJournal(file).filter((e) => e.what === 'start' && (!name || e.name === name)).length;
}

/** A command running fixtures/step.js; `ins` are the step's input names, `out` its output. */
export function stepCommand(
  name: string,
  journal: string,
  opts: { ins?: string[]; out?: string | false; sleep?: number; extra?: string } = {},
): string {
  const parts = ['node', JSON.stringify(STEP_SCRIPT), '--name', name, '--journal', JSON.stringify(journal)];
  for (const i of opts.ins ?? []) parts.push('--in', '${{inputs.' + i + '}}');
  if (opts.out !== false) parts.push('--out', '${{outputs.' + (opts.out ?? 'o') + '}}');
  if (opts.sleep) parts.push('--sleep', String(opts.sleep));
  if (opts.extra) parts.push(opts.extra);
  return parts.join(' ');
}

/** A step writing `n` one-line files (`f0.txt` …) into its directory output `docs`: a parallelRun's input. */
export function docsStep(n: number): { command: string; outputs: { docs: { type: 'directory' } } } {
  const files = Array.from({ length: n }, (_, i) => `f${i}`).join(' ');
  return {
    command: `for f in ${files}; do echo $f > \${{outputs.docs}}/$f.txt; done`,
    outputs: { docs: { type: 'directory' } },
  };
}

export async function publish(
  sluice: SluiceProcess,
  definition: unknown,
): Promise<{ name: string; version: number }> {
  return sluice.json('/api/pipelines', { method: 'POST', body: definition });
}

export async function startRun(
  sluice: SluiceProcess,
  pipeline: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<string> {
  const r = await sluice.json<{ runId: string }>(`/api/pipelines/${pipeline}/runs`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return r.runId;
}

export interface RunView {
  runId: string;
  status: string;
  steps: Array<
    {
      name: string;
      status: string;
      attempts: number;
      cache?: {
        decision: string;
        reason: string;
        changes?: Array<{ component: string; name?: string; message: string }>;
      };
      reusedFrom?: { runId: string; step: string };
      outputs?: Record<string, { hash: string; type: string }>;
      error?: { code: string; message: string };
      metrics?: Array<{ name: string; value: number }>;
    } & Pick<StepRecord, 'batches' | 'batchErrors' | 'bestTrial'>
  >;
}

/** The repository root (the compiled tests run from dist/test/…). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Runs `sluice …` (bin/sluice.js) against this Sluice, as a user would from a terminal. */
export function sluiceCli(
  sluice: SluiceProcess,
): (...args: string[]) => Promise<{ stdout: string; stderr: string }> {
  return (...args) =>
    promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'sluice.js'), ...args], {
      env: { ...process.env, SLUICE_ENDPOINT: sluice.baseUrl },
    });
}

export async function getRun(sluice: SluiceProcess, runId: string): Promise<RunView> {
  const run = await sluice.json<RunView>(`/api/runs/${runId}`);
  // The public view never carries storage internals.
  const leaked = Object.keys(run).filter((k) => k.startsWith('_'));
  if (leaked.length > 0) throw new Error(`GET /api/runs/${runId} leaks storage fields: ${leaked.join(', ')}`);
  return run;
}

export function step(run: RunView, name: string): RunView['steps'][number] {
  const s = run.steps.find((x) => x.name === name);
  if (!s) throw new Error(`run ${run.runId} has no step ${name}`);
  return s;
}

/** Polls until the run ends; fails with the run document after `timeoutMs`. */
export async function waitForRun(sluice: SluiceProcess, runId: string, timeoutMs = 90_000): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  let last: RunView | undefined;
  while (Date.now() < deadline) {
    last = await getRun(sluice, runId);
    if (['Completed', 'Failed', 'Canceled'].includes(last.status)) return last;
    await sleep(200);
  }
  throw new Error(`run ${runId} did not end within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
