/**
 * A job's result, reported: the log's last line and the result row are written at once (the row is the
 * record; storage hiccups are retried, and a result too large for a row is written without its metrics
 * rather than left unwritten), and the completion event goes to the orchestration (a durable external
 * event, for latency only: without an endpoint, or when it fails, the orchestration polls the row).
 * The row is written only while it is still running under this agent.
 */
import type { Clock } from '../host/clock';
import { failureFor, type JobOutcome } from './failures';
import type { JobOutput, JobResult, JobSpec } from './job';
import { completeJob } from './jobs-runner';
import type { RowEtag } from './job-watch';
import type { BlobLogWriter } from './log-stream';
import { reconnecting } from './reconnect';

/** What the job came to, filled in by the runner as it goes (a throw keeps what was known by then). */
export interface JobEnding {
  outcome: JobOutcome;
  outputs: JobOutput[];
  metrics: JobResult['metrics'];
  processMs?: number;
  exitCode?: number;
  environment?: JobResult['environment'];
  images?: JobResult['images'];
  miniBatches?: JobResult['miniBatches'];
}

/** Where the completion event goes; without an endpoint only the job row reports. */
export interface NotifyTarget {
  log: (line: string) => void;
  /** @default `SLUICE_ENDPOINT` */
  endpoint?: string;
  /** Function key for the endpoint (`x-functions-key`); never logged. @default `SLUICE_KEY` */
  key?: string;
}

export async function reportResult(
  spec: JobSpec,
  end: JobEnding,
  how: {
    agentId: string;
    startedAt: string;
    /** The ETag of the runner's last write on the row; cleared when a write fails. */
    row: RowEtag;
    logw: BlobLogWriter | undefined;
    clock: Clock;
    target: NotifyTarget;
    trace: (phase: string) => void;
  },
): Promise<void> {
  const { agentId, logw, target } = how;
  const { log } = target;
  const { outputs, metrics, exitCode, environment, images, processMs, miniBatches } = end;
  const failure = failureFor(end.outcome);
  if (failure) logw?.note(`failed (${failure.code}): ${failure.message}`);
  else logw?.note(`succeeded; outputs ${outputs.map((o) => `${o.name}=${o.hash}`).join(', ') || 'none'}`);
  how.trace('close+result');
  // The log's last bytes and the result row are written at once, and the completion event goes out
  // once the log is whole, so whoever learns of the end from the event finds the whole log.
  const logClosed = logw?.close().catch(() => undefined);
  const result: JobResult = {
    jobId: spec.jobId,
    state: failure ? (failure.code === 'canceled' ? 'canceled' : 'failed') : 'succeeded',
    outputs,
    metrics,
    startedAt: how.startedAt,
    finishedAt: new Date(how.clock.now()).toISOString(),
    agentId,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(environment ? { environment } : {}),
    ...(images?.length ? { images } : {}),
    ...(failure ? { failure } : {}),
    ...(processMs !== undefined ? { processMs } : {}),
    ...(miniBatches ? { miniBatches } : {}),
  };
  const writing = (async (): Promise<boolean> => {
    // Storage hiccups are retried; a result too large for a table row (1 MiB) is retried without
    // its metrics rather than left unwritten (which would read as a lost job).
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        // The service may be restarting (same endpoints after): wait for it rather than lose the result.
        const written = await reconnecting(
          () => completeJob(spec.runId, spec.jobId, agentId, result, how.row.etag),
          {
            onLost: (e) =>
              log(`job ${spec.jobId}: storage unreachable (${(e as Error).message}); waiting for it`),
            onBack: () => log(`job ${spec.jobId}: storage reachable again`),
          },
        );
        if (written) return true;
        log(`job ${spec.jobId}: the row is no longer running under this agent; result not written`);
        return false;
      } catch (e) {
        const code = (e as { statusCode?: number }).statusCode;
        log(`job ${spec.jobId}: writing the result failed: ${(e as Error).message}`);
        if ((code === 413 || code === 400) && result.metrics.length) result.metrics = [];
        how.row.etag = undefined;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
    return false;
  })();
  how.trace('notify');
  if (spec.batch === undefined && !failure) {
    // A step's orchestration takes the result from the event itself, so the event waits neither for
    // the row nor for the log's last write (two storage round trips off every step's path). Log
    // readers wait for the log's completion mark instead. A result that reaches an orchestration
    // which already decided the job otherwise (lost, canceled) is ignored there as stale.
    await Promise.all([writing, logClosed, notify(spec, result, target)]);
  } else {
    // A failure's last log lines are what `sluice run --wait` shows: log first. A mini-batch's (trial's)
    // step gathers the batches' outputs from their rows: row first.
    await logClosed;
    if (await writing) await notify(spec, result, target);
  }
}

async function notify(spec: JobSpec, result: JobResult, target: NotifyTarget): Promise<void> {
  const { log } = target;
  const endpoint = target.endpoint ?? process.env.SLUICE_ENDPOINT;
  if (!spec.notify || !endpoint) return;
  const url =
    `${endpoint.replace(/\/+$/, '')}/runtime/webhooks/durabletask/instances/` +
    `${encodeURIComponent(spec.notify.instanceId)}/raiseEvent/${encodeURIComponent(spec.notify.eventName)}`;
  const key = target.key ?? process.env.SLUICE_KEY;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
      body: JSON.stringify(result),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok && res.status !== 202)
      log(`notify ${spec.jobId}: HTTP ${res.status} (the orchestration will poll the job row)`);
  } catch (e) {
    log(`notify ${spec.jobId}: ${(e as Error).message} (the orchestration will poll the job row)`);
  }
}
