/**
 * What the runner does on a job's row while the job runs: it heartbeats the row (a sweep trial's
 * metrics so far ride along as `progress`) and reads it for a cancel request or for the job having been
 * taken away (failed as lost, claimed by another agent). Each heartbeat's ETag is kept in `row.etag`:
 * while it matches, nobody else changed the row, and the result is written on it without a read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { getClock, type ClockTimer } from '../host/clock';
import type { JobSpec } from './job';
import { readJob } from './jobs';
import { heartbeat } from './jobs-runner';
import { parseShardProgress } from './shard';

/** The ETag of the runner's own last write on the job row; undefined when unknown. */
export interface RowEtag {
  etag: string | undefined;
}

export interface JobWatch {
  /** Stops heartbeating and reading the row. */
  stop(): void;
}

export function watchJob(
  spec: JobSpec,
  opts: {
    agentId: string;
    row: RowEtag;
    log: (line: string) => void;
    /**
     * What the heartbeat carries as `progress`: a sweep trial's metrics file (its last points), or a
     * shard's progress file (mini-batches succeeded and failed so far).
     */
    progress: { kind: 'metrics' | 'shard'; file: string } | undefined;
    /** @default 2000 */
    heartbeatMs?: number;
    /** @default 500 */
    cancelPollMs?: number;
    /** The row asks for a cancel. */
    onCancel: () => void;
    /** The row is no longer running under this agent: a retry may be running elsewhere. */
    onTakenAway: () => void;
  },
): JobWatch {
  const clock = getClock();
  const { agentId, log, progress } = opts;
  let hbTimer: ClockTimer | undefined;
  const beat = (): void => {
    hbTimer = clock.setTimeout(() => {
      heartbeat(
        spec.runId,
        spec.jobId,
        progress?.kind === 'shard' ? shardProgressFields(progress.file) : progressFields(progress?.file),
      ).then(
        (t) => {
          opts.row.etag = t;
        },
        (e: unknown) => log(`heartbeat ${spec.jobId}: ${(e as Error).message}`),
      );
      beat();
    }, opts.heartbeatMs ?? 2000);
  };
  beat();
  const cancelPoll = setInterval(() => {
    readJob(spec.runId, spec.jobId)
      .then((row) => {
        if (row?.cancelRequested) opts.onCancel();
        // Failed as lost (or otherwise taken away) by the orchestration: a retry may be running
        // elsewhere, so this copy must stop now.
        else if (row && (row.state !== 'running' || row.claimedBy !== agentId)) opts.onTakenAway();
      })
      .catch(() => undefined);
  }, opts.cancelPollMs ?? 500);
  return {
    stop: () => {
      hbTimer?.cancel();
      clearInterval(cancelPoll);
    },
  };
}

/** A shard's `progress` heartbeat field, as the driver last wrote it (none before a mini-batch ends). */
function shardProgressFields(file: string): Record<string, unknown> {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const p = parseShardProgress(text);
  return p ? { progress: JSON.stringify(p) } : {};
}

/** The `progress` heartbeat field: the last 200 metric lines with a step index, at most ~30 KB. */
function progressFields(file: string | undefined): Record<string, unknown> {
  if (!file || !existsSync(file)) return {};
  try {
    const points: Array<{ name: string; value: number; step: number }> = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      try {
        const m = JSON.parse(line) as { name?: unknown; value?: unknown; step?: unknown };
        if (typeof m.name === 'string' && typeof m.value === 'number' && typeof m.step === 'number')
          points.push({ name: m.name.slice(0, 100), value: m.value, step: m.step });
      } catch {
        // a partial last line or a bad one: the result's parse reports it
      }
    }
    return points.length ? { progress: JSON.stringify(points.slice(-200)) } : {};
  } catch {
    return {};
  }
}
