import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';

/**
 * The trigger log: Cosmos container `triggerlog`, partition `/source`. One entry per decision a trigger
 * made: a schedule occurrence started, skipped or failed; a range of missed occurrences; a rejected
 * queue message. Entry ids are derived from what they describe (`occ:<occurrence>`), so an evaluation
 * that runs twice writes the same entry twice instead of two entries.
 */

export const TRIGGERLOG_CONTAINER = 'triggerlog';

/** `schedule:<name>` or `queue:<queue>`. */
export type TriggerSource = `schedule:${string}` | `queue:${string}`;

export type Decision =
  /** Written before the run is started, so a crash between the two is finished on the next evaluation. */
  | 'starting'
  | 'started'
  | 'skipped'
  | 'canceledPreviousAndStarted'
  | 'missed'
  | 'failed'
  | 'rejected'
  /** Queue runs with `outputs`: waiting for the run to end, then delivered (or not). */
  | 'awaitingRun'
  | 'delivered'
  | 'notDelivered';

export interface TriggerLogEntry {
  id: string;
  source: TriggerSource;
  /** When the decision was made (the process clock). */
  at: string;
  decision: Decision;
  /** The occurrence (schedules), ISO. For `missed`: the first missed occurrence. */
  occurrence?: string;
  /** `missed` only: the last missed occurrence and how many there were. */
  until?: string;
  count?: number;
  countIsLowerBound?: boolean;
  /** The occurrence ran later than it was due (catch-up after downtime). */
  late?: boolean;
  idempotencyKey?: string;
  runId?: string;
  canceledRunId?: string;
  reason?: string;
  /** `rejected` (queue): the message id, its text (truncated) and every validation problem. */
  messageId?: string;
  message?: string;
  problems?: Array<{ pointer: string; message: string }>;
  /** Deliveries: `step.output` → where it goes, and what was registered. */
  outputs?: Record<string, { dataset: string }>;
  delivered?: Record<string, { dataset: string; version: number; hash: string; created: boolean }>;
}

export async function triggerLogContainer(): Promise<Container> {
  return getClients().container(TRIGGERLOG_CONTAINER, '/source');
}

export async function writeEntry(entry: TriggerLogEntry): Promise<void> {
  const c = await triggerLogContainer();
  await c.items.upsert(entry);
}

export async function readEntry(source: TriggerSource, id: string): Promise<TriggerLogEntry | undefined> {
  const c = await triggerLogContainer();
  try {
    const r = await c.item(id, source).read<TriggerLogEntry>();
    return r.resource ?? undefined;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

export interface Page<T> {
  items: T[];
  continuationToken?: string;
}

/** Entries of one source, newest decision first, paged with continuation tokens. */
export async function listEntries(
  source: TriggerSource,
  opts: { limit?: number; continuationToken?: string; decision?: Decision } = {},
): Promise<Page<TriggerLogEntry>> {
  const c = await triggerLogContainer();
  const parameters = [{ name: '@source', value: source as string }];
  let where = 'c.source = @source';
  if (opts.decision) {
    where += ' AND c.decision = @decision';
    parameters.push({ name: '@decision', value: opts.decision });
  }
  const iter = c.items.query<TriggerLogEntry>(
    {
      query:
        'SELECT c.id, c.source, c.at, c.decision, c.occurrence, c.until, c.count, c.countIsLowerBound, c.late, ' +
        'c.idempotencyKey, c.runId, c.canceledRunId, c.reason, c.messageId, c.message, c.problems, c.outputs, c.delivered ' +
        `FROM c WHERE ${where} ORDER BY c.at DESC`,
      parameters,
    },
    {
      partitionKey: source,
      maxItemCount: Math.min(Math.max(opts.limit ?? 50, 1), 200),
      ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}),
    },
  );
  const page = await iter.fetchNext();
  const items = (page.resources ?? []).map(
    (e) =>
      Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as unknown as TriggerLogEntry,
  );
  return { items, ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
}

/** Removes every entry of a source (a deleted schedule's history goes with it). */
export async function deleteSource(source: TriggerSource): Promise<void> {
  const c = await triggerLogContainer();
  const iter = c.items.query<{ id: string }>(
    { query: 'SELECT c.id FROM c WHERE c.source = @s', parameters: [{ name: '@s', value: source }] },
    { partitionKey: source, maxItemCount: 200 },
  );
  while (iter.hasMoreResults()) {
    const page = await iter.fetchNext();
    for (const { id } of page.resources ?? [])
      await c
        .item(id, source)
        .delete()
        .catch((e) => {
          if ((e as { code?: number }).code !== 404) throw e;
        });
  }
}
