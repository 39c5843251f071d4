import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import { conflict, notFound, ProblemError } from '../errors/problem';
import type { ScheduleSpec } from './schema';

/**
 * The schedules store: Cosmos container `schedules`, partition `/name`, one document per schedule.
 * Every change after creation is an etag-conditional replace, so two evaluators (two hosts, or a timer
 * that fired twice) and a PATCH never overwrite each other's state.
 */

export const SCHEDULES_CONTAINER = 'schedules';

export interface ScheduleDoc extends ScheduleSpec {
  id: string;
  createdAt: string;
  updatedAt: string;
  /**
   * Every occurrence at or before this instant has been decided. Set to the creation time (and to the
   * time of a rule change or re-enable), which is why a schedule never fires for earlier occurrences.
   */
  lastEvaluated: string;
  /** The run of the latest started occurrence: what the overlap policy looks at. */
  lastRun?: { runId: string; occurrence: string };
  /** An evaluator holding the schedule (see lib/schedules/evaluate.ts). */
  lease?: { owner: string; until: string };
  _etag?: string;
}

export interface Page<T> {
  items: T[];
  continuationToken?: string;
}

export async function schedulesContainer(): Promise<Container> {
  return getClients().container(SCHEDULES_CONTAINER, '/name');
}

const code = (e: unknown): number | undefined => (e as { code?: number })?.code;

export async function readSchedule(name: string): Promise<ScheduleDoc | undefined> {
  const c = await schedulesContainer();
  try {
    const r = await c.item(name, name).read<ScheduleDoc>();
    return r.resource ?? undefined;
  } catch (e) {
    if (code(e) === 404) return undefined;
    throw e;
  }
}

export async function getSchedule(name: string): Promise<ScheduleDoc> {
  const doc = await readSchedule(name);
  if (!doc) throw notFound(`There is no schedule "${name}"; list them with GET /api/schedules.`);
  return doc;
}

export async function createSchedule(doc: ScheduleDoc): Promise<ScheduleDoc> {
  const c = await schedulesContainer();
  try {
    const r = await c.items.create<ScheduleDoc>(doc);
    return r.resource!;
  } catch (e) {
    if (code(e) === 409)
      throw conflict(
        `A schedule "${doc.name}" exists already; change it with PATCH /api/schedules/${doc.name} or pick another name.`,
      );
    throw e;
  }
}

/** Replaces under `etag`; returns undefined when the document changed meanwhile (412). */
export async function replaceSchedule(doc: ScheduleDoc, etag: string): Promise<ScheduleDoc | undefined> {
  const c = await schedulesContainer();
  try {
    const r = await c.item(doc.name, doc.name).replace<ScheduleDoc>(doc, {
      accessCondition: { type: 'IfMatch', condition: etag },
    });
    return r.resource!;
  } catch (e) {
    if (code(e) === 412) return undefined;
    if (code(e) === 404) throw notFound(`The schedule "${doc.name}" was deleted meanwhile.`);
    throw e;
  }
}

/** Read-modify-write under the etag, retried on a lost race. `change` returns false to leave it as is. */
export async function updateSchedule(
  name: string,
  change: (doc: ScheduleDoc) => boolean | void,
  ifMatch?: string,
): Promise<ScheduleDoc> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const doc = await getSchedule(name);
    if (ifMatch && doc._etag !== ifMatch)
      throw new ProblemError(
        'precondition-failed',
        `The schedule "${name}" changed since you read it (If-Match ${ifMatch} ≠ ${doc._etag}); GET it again and retry.`,
      );
    const next = structuredClone(doc);
    if (change(next) === false) return doc;
    const saved = await replaceSchedule(next, doc._etag!);
    if (saved) return saved;
    if (ifMatch)
      throw new ProblemError(
        'precondition-failed',
        `The schedule "${name}" changed while it was being updated.`,
      );
  }
  throw new ProblemError(
    'unavailable',
    `The schedule "${name}" is being changed by many writers at once; retry.`,
  );
}

export async function deleteSchedule(name: string): Promise<void> {
  const c = await schedulesContainer();
  try {
    await c.item(name, name).delete();
  } catch (e) {
    if (code(e) === 404) throw notFound(`There is no schedule "${name}".`);
    throw e;
  }
}

export async function listSchedules(
  opts: { limit?: number; continuationToken?: string } = {},
): Promise<Page<ScheduleDoc>> {
  const c = await schedulesContainer();
  const iter = c.items.query<ScheduleDoc>('SELECT * FROM c ORDER BY c.name', {
    maxItemCount: Math.min(Math.max(opts.limit ?? 50, 1), 200),
    ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}),
  });
  const page = await iter.fetchNext();
  return {
    items: page.resources ?? [],
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  };
}

/** Every enabled schedule's name (the evaluator re-reads each one before acting on it). */
export async function enabledScheduleNames(): Promise<string[]> {
  const c = await schedulesContainer();
  const iter = c.items.query<{ name: string }>('SELECT c.name FROM c WHERE c.enabled = true', {
    maxItemCount: 500,
  });
  const out: string[] = [];
  while (iter.hasMoreResults()) {
    const page = await iter.fetchNext();
    for (const r of page.resources ?? []) out.push(r.name);
  }
  return out;
}
