import type { EnvironmentRecord } from '../environments/agent-hook';
import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import type { TriggerInfo } from './contract';
import type { CacheComponents, ComponentChange } from './cache-key';
import type { RunStatus, StepOutputRef, StepStatus } from './plan';

/**
 * The runs store: Cosmos container `runs`, partition `/runId`. One document per run with its steps
 * embedded (`steps: {name: StepRecord}`): GET /api/runs/{id} is one point read, and the orchestration —
 * the only writer once the run exists — persists every change of an episode in one replace. A run of a
 * few hundred steps stays far below Cosmos' 2 MB document limit (metrics are capped per step).
 * Idempotency keys are small documents in the same container (`id: idem:<hash>`, their own partition).
 */

export const RUNS_CONTAINER = 'runs';
/** Metrics kept per step; a script that logs every batch should aggregate. */
export const MAX_METRICS_PER_STEP = 1000;
/** Failed batch attempts kept per step (the latest): enough to diagnose, bounded for the document. */
export const MAX_BATCH_ERRORS = 100;

export interface StepRecord {
  name: string;
  status: StepStatus;
  /** The steps this one waits for (data edges and `after`), for DAG views. */
  dependsOn?: string[];
  attempts: number;
  jobId?: string;
  pool?: string;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  cache?: {
    key: string;
    decision: 'reused' | 'run';
    reason: string;
    changes?: ComponentChange[];
    /** The run whose execution of this step the changes are relative to. */
    since?: string;
    components: CacheComponents;
  };
  reusedFrom?: { runId: string; step: string };
  /** Single-flight: this step waits for another run's execution of the same key. */
  waitingFor?: { runId: string; step: string };
  outputs?: Record<string, StepOutputRef>;
  exitCode?: number;
  error?: { code: string; message: string };
  metrics?: Array<{ name: string; value: number; step?: number; time?: string }>;
  /** ms spent in the step's own process (last attempt). */
  processMs?: number;
  /** The environment the step ran in (last attempt): build key and the exact package versions (lock). */
  environment?: EnvironmentRecord;
  /** Images the step logged (`sluice.run.log_image`): `GET /api/artifacts/{hash}` serves each. */
  images?: Array<{ name: string; hash: string; size: number }>;
  /** Failures of earlier attempts, oldest first. */
  attemptErrors?: Array<{ attempt: number; code: string; message: string }>;
  /**
   * parallelRun / automl: how its mini-batch (trial) jobs stand. `failed` counts batches that failed for
   * good; `retrying` those waiting for their back-off before another attempt.
   */
  batches?: { total: number; running: number; succeeded: number; failed: number; retrying?: number };
  /**
   * parallelRun / automl: every failed batch attempt (the latest `MAX_BATCH_ERRORS`), oldest first. Its log is
   * `GET …/steps/{step}/logs?batch={batch}&attempt={attempt}`.
   */
  batchErrors?: Array<{ batch: number; attempt: number; code: string; message: string }>;
  /**
   * sweep and automl: every trial, best first (at most `MAX_LEADERBOARD_ROWS`; an automl step's
   * `leaderboard` output holds them all): its model or parameters, metrics, duration and status.
   */
  leaderboard?: LeaderboardRow[];
  /** sweep: the winning trial (its outputs and metrics are the step's). */
  bestTrial?: {
    index: number;
    parameters: Record<string, string | number | boolean>;
    metric: string;
    value: number;
  };
}

export interface LeaderboardRow {
  rank: number;
  /** sweep: the trial's index; automl: FLAML's trial id within its family. */
  trial?: number;
  /** automl: the estimator family (Azure ML's name) and FLAML's estimator. */
  family?: string;
  model?: string;
  /** sweep: the trial's search-space values; automl: the estimator's hyperparameters. */
  hyperparameters?: Record<string, unknown>;
  /** The last value of each metric. */
  metrics?: Record<string, number>;
  durationS?: number;
  /** Completed, Failed, Canceled (sweep: stopped by early termination), … */
  status: string;
  error?: string;
}

/** Leaderboard rows kept on a step record: the document stays small (Cosmos items ≤ 2 MB). */
export const MAX_LEADERBOARD_ROWS = 200;

export interface RunDoc {
  id: string;
  runId: string;
  type: 'run';
  pipeline: string;
  version: number;
  definitionHash: string;
  status: RunStatus;
  parameters: Record<string, unknown>;
  /** Pipeline input name → the reference given (`churn-raw@latest`). */
  inputs: Record<string, string>;
  /** Pipeline input name → what it resolved to when the run started. */
  resolvedInputs: Record<string, { hash: string; type: 'file' | 'directory'; ref: string }>;
  tags: Record<string, string>;
  trigger: TriggerInfo;
  forceRerun: boolean;
  continueOnStepFailure: boolean;
  maxConcurrency: number;
  rerunOf?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  steps: Record<string, StepRecord>;
  /** Set once a `replyTo` summary was posted, so a replayed finish does not post twice. */
  replied?: boolean;
  _etag?: string;
}

export async function runsContainer(): Promise<Container> {
  return getClients().container(RUNS_CONTAINER, '/runId');
}

export function isStatus(e: unknown, code: number): boolean {
  return (
    (e as { code?: number; statusCode?: number })?.code === code ||
    (e as { statusCode?: number })?.statusCode === code
  );
}

export async function readRun(runId: string): Promise<RunDoc | undefined> {
  const c = await runsContainer();
  try {
    const r = await c.item(runId, runId).read<RunDoc>();
    return r.resource && r.resource.type === 'run' ? r.resource : undefined;
  } catch (e) {
    if (isStatus(e, 404)) return undefined;
    throw e;
  }
}

/** Creates the run document; false when one with this id already exists (idempotent start). */
export async function createRun(doc: RunDoc): Promise<boolean> {
  const c = await runsContainer();
  try {
    await c.items.create(doc);
    return true;
  } catch (e) {
    if (isStatus(e, 409)) return false;
    throw e;
  }
}

/**
 * Read-modify-write under the document's etag, retried on a lost race. The orchestration is the only
 * writer of a running run, so races are rare (a replayed activity); the etag makes them harmless.
 */
export async function updateRun(
  runId: string,
  change: (doc: RunDoc) => void,
  cached?: RunDoc,
): Promise<RunDoc> {
  const c = await runsContainer();
  let doc = cached;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (!doc) {
      doc = await readRun(runId);
      if (!doc) throw new Error(`run ${runId} has no document in the runs container`);
    }
    const next = structuredClone(doc);
    change(next);
    try {
      const r = await c.item(runId, runId).replace<RunDoc>(next, {
        accessCondition: { type: 'IfMatch', condition: doc._etag! },
      });
      return r.resource!;
    } catch (e) {
      if (isStatus(e, 412)) {
        doc = undefined;
        continue;
      }
      throw e;
    }
  }
  throw new Error(`run ${runId}: too many concurrent updates`);
}

export interface RunSummary {
  runId: string;
  pipeline: string;
  version: number;
  status: RunStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  tags: Record<string, string>;
  trigger: TriggerInfo;
}

/** Runs, newest first, filtered by pipeline and/or status, paged with continuation tokens. */
export async function listRuns(opts: {
  pipeline?: string;
  status?: string;
  limit?: number;
  continuationToken?: string;
}): Promise<{ items: RunSummary[]; continuationToken?: string }> {
  const c = await runsContainer();
  const where = ["c.type = 'run'"];
  const parameters: Array<{ name: string; value: string }> = [];
  if (opts.pipeline) {
    where.push('c.pipeline = @pipeline');
    parameters.push({ name: '@pipeline', value: opts.pipeline });
  }
  if (opts.status) {
    where.push('c.status = @status');
    parameters.push({ name: '@status', value: opts.status });
  }
  const query = {
    query:
      'SELECT c.runId, c.pipeline, c.version, c.status, c.createdAt, c.startedAt, c.finishedAt, c.tags, c.trigger FROM c WHERE ' +
      where.join(' AND ') +
      ' ORDER BY c.createdAt DESC',
    parameters,
  };
  const iter = c.items.query<RunSummary>(query, {
    maxItemCount: Math.min(Math.max(opts.limit ?? 50, 1), 200),
    ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}),
  });
  const page = await iter.fetchNext();
  return {
    items: page.resources ?? [],
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  };
}

/** The public view of a run: steps as an array in definition order. */
export function runView(doc: RunDoc, order?: string[]): Record<string, unknown> {
  const {
    _etag,
    _rid,
    _self,
    _ts,
    _attachments,
    id: _id,
    type: _type,
    steps,
    replied: _r,
    ...rest
  } = doc as RunDoc & Record<string, unknown>;
  void [_etag, _rid, _self, _ts, _attachments];
  const names = order ?? Object.keys(steps);
  return { ...rest, steps: names.filter((n) => steps[n]).map((n) => steps[n]) };
}
