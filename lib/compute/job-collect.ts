/**
 * What a finished job leaves behind, collected by the runner: the declared outputs, checked against the
 * output contract and uploaded by sha256, and the metrics the command wrote to `$SLUICE_METRICS`
 * (JSON lines; bad lines are noted in the log, never fatal; at most the last 2,000 are kept).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { putDirectory, putFile } from '../data/cas';
import type { JobOutcome } from './failures';
import type { JobOutput, JobResult, JobSpec } from './job';
import { checkOutputs, safeName } from './job-local';
import type { BlobLogWriter } from './log-stream';

const MAX_METRICS = 2000;
const MAX_METRIC_NAME = 200;

export async function collectOutputs(
  spec: JobSpec,
  outputsDir: string,
  logw: BlobLogWriter,
): Promise<{ outputs: JobOutput[] } | { outcome: JobOutcome }> {
  const broken = checkOutputs(spec, outputsDir);
  if (broken) return { outcome: broken };
  const outputs: JobOutput[] = [];
  for (const o of spec.outputs) {
    const p = join(outputsDir, safeName(o.name));
    const r = o.type === 'file' ? await putFile(p) : await putDirectory(p);
    logw.note(`output ${o.name}: ${o.type} ${r.hash} (${r.size} bytes, ${r.uploadedBytes} uploaded)`);
    outputs.push({ name: o.name, type: o.type, hash: r.hash, size: r.size });
  }
  return { outputs };
}

/** Parses `$SLUICE_METRICS` (JSON lines `{name, value, step?, time?}`); bad lines are noted, not fatal. */
export async function readMetrics(file: string, logw?: BlobLogWriter): Promise<JobResult['metrics']> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const out: JobResult['metrics'] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line) as { name?: unknown; value?: unknown; step?: unknown; time?: unknown };
      if (
        typeof m.name !== 'string' ||
        m.name === '' ||
        m.name.length > MAX_METRIC_NAME ||
        typeof m.value !== 'number' ||
        !Number.isFinite(m.value)
      ) {
        bad++;
        continue;
      }
      const metric: JobResult['metrics'][number] = { name: m.name, value: m.value };
      if (typeof m.step === 'number' && Number.isFinite(m.step)) metric.step = m.step;
      if (typeof m.time === 'string') metric.time = m.time;
      out.push(metric);
    } catch {
      bad++;
    }
  }
  if (bad)
    logw?.note(
      `${bad} metric line(s) ignored: each line must be JSON {"name": string of at most ${MAX_METRIC_NAME} characters, "value": finite number}`,
    );
  if (out.length > MAX_METRICS) {
    logw?.note(`${out.length} metrics reported; keeping the last ${MAX_METRICS}`);
    return out.slice(-MAX_METRICS);
  }
  return out;
}
