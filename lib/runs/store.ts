import type { EnvironmentRecord } from '../environments/agent-hook';
import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import type { TriggerInfo } from './contract';
import type { CacheComponents, ComponentChange } from './cache-key';
import type { LeaderboardRow } from './leaderboard-row';
import type { RunStatus, StepOutputRef, StepStatus } from './plan';
import {
  indexPages,
  pageCount,
  pageDocs,
  pageId,
  pageOf,
  type PageIndex,
  type StepPageDoc,
} from './step-pages';

/**
 * The runs store: Cosmos container `runs`, partition `/runId`. A run is a small head document (`id` =
 * the run id) and its step records in step pages (step-pages.ts) of the same partition. `readRun`
 * assembles them into one `RunDoc` (`steps: {name: StepRecord}`); `updateRun` writes back the head and
 * only the pages whose steps it was told changed, so a completion costs the same in a run of 50 steps
 * and of 5,000, and no document grows with the run. Runs stored before pages existed keep their steps
 * embedded (no `stepPages`), and are read and written as before.
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

export type { LeaderboardRow };

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
  /** Steps by status as the orchestration last wrote them (in the head: a view without steps reads only it). */
  stepCounts?: Partial<Record<StepStatus, number>>;
  /** How many step pages hold `steps` (absent: embedded in this document, as runs were stored before). */
  stepPages?: number;
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

/** Step names by page of each loaded run document (kept with the document, never stored). */
const indexes = new WeakMap<RunDoc, PageIndex>();

function withIndex(doc: RunDoc, index?: PageIndex): RunDoc {
  if (doc.stepPages) indexes.set(doc, index ?? indexPages(Object.keys(doc.steps), doc.stepPages));
  return doc;
}

async function readHead(c: Container, runId: string): Promise<RunDoc | undefined> {
  try {
    const r = await c.item(runId, runId).read<RunDoc>();
    return r.resource && r.resource.type === 'run' ? r.resource : undefined;
  } catch (e) {
    if (isStatus(e, 404)) return undefined;
    throw e;
  }
}

async function readPage(c: Container, runId: string, page: number): Promise<StepPageDoc | undefined> {
  try {
    return (await c.item(pageId(runId, page), runId).read<StepPageDoc>()).resource ?? undefined;
  } catch (e) {
    if (isStatus(e, 404)) return undefined;
    throw e;
  }
}

/** The run with every step record (head and step pages: 1 + pages point reads). */
export async function readRun(runId: string): Promise<RunDoc | undefined> {
  const c = await runsContainer();
  const head = await readHead(c, runId);
  if (!head || !head.stepPages) return head;
  const pages = await Promise.all(Array.from({ length: head.stepPages }, (_, k) => readPage(c, runId, k)));
  const steps: Record<string, StepRecord> = {};
  for (const p of pages) if (p) Object.assign(steps, p.steps);
  return withIndex({ ...head, steps });
}

/** The run's head: everything but the step records (one point read, whatever the run's size). */
export async function readRunHead(runId: string): Promise<RunDoc | undefined> {
  const head = await readHead(await runsContainer(), runId);
  return head && (head.stepPages ? head : { ...head, steps: {} });
}

/** One step's record: the head and the one page that holds it. */
export async function readStepRecord(runId: string, step: string): Promise<StepRecord | undefined> {
  const c = await runsContainer();
  const head = await readHead(c, runId);
  if (!head) return undefined;
  if (!head.stepPages) return head.steps?.[step];
  return (await readPage(c, runId, pageOf(step, head.stepPages)))?.steps[step];
}

/** The ids of a run's step pages (to delete them with the run). */
export function stepPageIds(doc: RunDoc): string[] {
  return Array.from({ length: doc.stepPages ?? 0 }, (_, k) => pageId(doc.runId, k));
}

function headOnly(doc: RunDoc): RunDoc {
  return doc.stepPages ? ({ ...doc, steps: {} } as RunDoc) : doc;
}

async function createPages(c: Container, doc: RunDoc, index: PageIndex): Promise<void> {
  const all = Array.from({ length: doc.stepPages! }, (_, k) => k);
  await Promise.all(
    pageDocs(doc.runId, doc.steps, index, all).map((p) =>
      c.items.create(p).catch((e) => {
        if (!isStatus(e, 409)) throw e;
      }),
    ),
  );
}

/**
 * Creates the run: its head, then its step pages; false when a run with this id already exists
 * (idempotent start). Pages are created, never replaced, so a repeated start cannot reset a run's steps,
 * and one cut short between the two writes gets its missing pages on the next try.
 */
export async function createRun(doc: RunDoc): Promise<boolean> {
  const c = await runsContainer();
  doc.stepPages ??= pageCount(Object.keys(doc.steps).length);
  const index = indexPages(Object.keys(doc.steps), doc.stepPages);
  let created = true;
  try {
    await c.items.create(headOnly(doc));
  } catch (e) {
    if (!isStatus(e, 409)) throw e;
    created = false;
  }
  const head = created ? doc : await readHead(c, doc.runId);
  if (head?.stepPages === doc.stepPages) await createPages(c, doc, index);
  withIndex(doc, index);
  return created;
}

/** A copy to change: the head deeply, and of the steps only those named (or all when none are). */
function copyForChange(doc: RunDoc, touched: ReadonlySet<string> | undefined): RunDoc {
  if (!touched || !doc.stepPages) return structuredClone(doc);
  const { steps, ...head } = doc;
  const next = structuredClone(head) as RunDoc;
  next.steps = { ...steps };
  for (const n of touched) if (steps[n]) next.steps[n] = structuredClone(steps[n]!);
  return next;
}

/**
 * Read-modify-write under the head's etag, retried on a lost race. The orchestration is the only
 * writer of a running run, so races are rare (a replayed activity); the etag makes them harmless.
 *
 * `touched` names the steps `change` may add or modify: only their pages are written (the cost of a
 * write does not grow with the run). Without it every page whose records changed is written. Pages are
 * written before the head, so whoever sees the head's new status sees the steps that led to it.
 */
export async function updateRun(
  runId: string,
  change: (doc: RunDoc) => void,
  cached?: RunDoc,
  touched?: Iterable<string>,
): Promise<RunDoc> {
  const c = await runsContainer();
  const names = touched ? new Set(touched) : undefined;
  let doc = cached;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (!doc) {
      doc = await readRun(runId);
      if (!doc) throw new Error(`run ${runId} has no document in the runs container`);
    }
    const next = copyForChange(doc, names);
    change(next);
    let index: PageIndex | undefined;
    if (next.stepPages) {
      index = indexes.get(doc) ?? indexPages(Object.keys(doc.steps), next.stepPages);
      const pages = new Set<number>();
      if (names) for (const n of names) pages.add(pageOf(n, next.stepPages));
      else
        for (const n of new Set([...Object.keys(doc.steps), ...Object.keys(next.steps)]))
          if (JSON.stringify(doc.steps[n]) !== JSON.stringify(next.steps[n]))
            pages.add(pageOf(n, next.stepPages));
      const added = [...(names ?? Object.keys(next.steps))].filter((n) => next.steps[n] && !doc!.steps[n]);
      if (added.length) index = indexPages(added, next.stepPages, new Map(index));
      await Promise.all(pageDocs(runId, next.steps, index, pages).map((p) => c.items.upsert(p)));
    }
    try {
      const r = await c.item(runId, runId).replace<RunDoc>(headOnly(next), {
        accessCondition: { type: 'IfMatch', condition: doc._etag! },
      });
      const stored = r.resource!;
      return withIndex(next.stepPages ? { ...stored, steps: next.steps } : stored, index);
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
    stepPages: _p,
    ...rest
  } = doc as RunDoc & Record<string, unknown>;
  void [_etag, _rid, _self, _ts, _attachments];
  const names = order ?? Object.keys(steps);
  return { ...rest, steps: names.filter((n) => steps[n]).map((n) => steps[n]) };
}
