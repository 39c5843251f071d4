/**
 * Durable state in one Azure Table, one partition per instance (layout in README.md). Every write is
 * idempotent (upserts; deletes tolerate 404) so that a request whose outcome is unknown can simply be
 * retried: the engine retries with back-off until storage answers, and logs while it waits.
 */
import { TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import type { HostLogger } from '../host/types';
import type { HistoryEvent } from './history';
import type { LeafSig } from './exec-state';

/** Azure's limit is 64 KiB per string property (UTF-16): keep each chunk well below. */
const CHUNK = 30_000;
/** Chunks per row (entity limit 1 MiB). */
const CHUNKS_PER_ROW = 14;

export const INSTANCE_ROW = 'I';

export interface InstanceRecord {
  id: string;
  name: string;
  status: string;
  execSeq: number;
  executionId: string;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  failureDetails: string | null;
  createdMs: number;
  updatedMs: number;
  parentId: string | null;
  parentTaskId: number | null;
  parentExecSeq: number | null;
  version: string | null;
  /** Inbox rows with keys at or below this belong to an earlier instance with the same id. */
  inboxFloor?: string;
}

/** One committed episode: the events it appended, the leaves it handled, the inbox rows it consumed. */
export interface EpisodeRecord {
  e: HistoryEvent[];
  l: LeafSig[];
  /** Highest inbox row key consumed by this episode. */
  w?: string;
}

/** A client message persisted before it is acknowledged (external event, terminate, suspend, resume). */
export interface InboxMessage {
  k: 'event' | 'terminate' | 'suspend' | 'resume';
  name?: string;
  input?: string | null;
  reason?: string;
  at: number;
}

export interface LoadedPartition {
  episodes: EpisodeRecord[];
  inbox: Array<{ key: string; msg: InboxMessage }>;
  /** History rows of older executions (left by continueAsNew or a restart): to delete. */
  staleKeys: string[];
}

/** PartitionKey/RowKey may not hold / \ # ? or control characters: percent-encode those (and %). */
export function encodeKey(id: string): string {
  return id.replace(
    /[%/\\#?\u0000-\u001f\u007f-\u009f]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'),
  );
}

export function historyKey(execSeq: number, episode: number, part = 0): string {
  return `H${String(execSeq).padStart(6, '0')}${String(episode).padStart(9, '0')}${String(part).padStart(3, '0')}`;
}

let inboxCounter = 0;
export function newInboxKey(nowMs: number): string {
  inboxCounter = (inboxCounter + 1) % 1_000_000;
  return `M${String(nowMs).padStart(15, '0')}${String(inboxCounter).padStart(6, '0')}`;
}

export function putChunks(entity: Record<string, unknown>, prefix: string, text: string | null): void {
  if (text === null) {
    entity[`${prefix}N`] = -1;
    return;
  }
  const n = Math.ceil(text.length / CHUNK);
  entity[`${prefix}N`] = n;
  for (let i = 0; i < n; i++) entity[`${prefix}${i}`] = text.slice(i * CHUNK, (i + 1) * CHUNK);
}

export function getChunks(entity: Record<string, unknown>, prefix: string): string | null {
  const n = entity[`${prefix}N`];
  if (typeof n !== 'number' || n < 0) return null;
  let s = '';
  for (let i = 0; i < n; i++) s += String(entity[`${prefix}${i}`] ?? '');
  return s;
}

export function instanceEntity(r: InstanceRecord): TableEntity {
  const e: Record<string, unknown> = {
    partitionKey: encodeKey(r.id),
    rowKey: INSTANCE_ROW,
    InstanceId: r.id,
    Name: r.name,
    Status: r.status,
    ExecSeq: r.execSeq,
    ExecutionId: r.executionId,
    CreatedMs: r.createdMs,
    UpdatedMs: r.updatedMs,
    ParentId: r.parentId ?? '',
    ParentTaskId: r.parentTaskId ?? -1,
    ParentExecSeq: r.parentExecSeq ?? -1,
    Version: r.version ?? '',
    InboxFloor: r.inboxFloor ?? '',
  };
  putChunks(e, 'In', r.input);
  putChunks(e, 'Out', r.output);
  putChunks(e, 'Cs', r.customStatus);
  putChunks(e, 'Fd', r.failureDetails);
  return e as TableEntity;
}

function instanceFromEntity(e: Record<string, unknown>): InstanceRecord {
  const num = (v: unknown, d: number): number =>
    typeof v === 'number' ? v : typeof v === 'string' && v ? Number(v) : d;
  const pt = num(e.ParentTaskId, -1);
  const pe = num(e.ParentExecSeq, -1);
  return {
    id: String(e.InstanceId),
    name: String(e.Name),
    status: String(e.Status),
    execSeq: num(e.ExecSeq, 1),
    executionId: String(e.ExecutionId ?? ''),
    input: getChunks(e, 'In'),
    output: getChunks(e, 'Out'),
    customStatus: getChunks(e, 'Cs'),
    failureDetails: getChunks(e, 'Fd'),
    createdMs: num(e.CreatedMs, 0),
    updatedMs: num(e.UpdatedMs, 0),
    parentId: e.ParentId ? String(e.ParentId) : null,
    parentTaskId: pt >= 0 ? pt : null,
    parentExecSeq: pe >= 0 ? pe : null,
    version: e.Version ? String(e.Version) : null,
    inboxFloor: e.InboxFloor ? String(e.InboxFloor) : undefined,
  };
}

/**
 * History rows for consecutive episodes committed together: one row (or more, if large) per execution,
 * keyed by its first episode, holding the episode records as a JSON array.
 */
export function commitEntities(
  id: string,
  items: Array<{ execSeq: number; episode: number; record: EpisodeRecord }>,
): TableEntity[] {
  const pk = encodeKey(id);
  const rows: TableEntity[] = [];
  const perRow = CHUNK * CHUNKS_PER_ROW;
  let i = 0;
  while (i < items.length) {
    const first = items[i]!;
    const group: EpisodeRecord[] = [];
    while (i < items.length && items[i]!.execSeq === first.execSeq) group.push(items[i++]!.record);
    const text = JSON.stringify(group);
    const parts = Math.max(1, Math.ceil(text.length / perRow));
    for (let p = 0; p < parts; p++) {
      const e: Record<string, unknown> = {
        partitionKey: pk,
        rowKey: historyKey(first.execSeq, first.episode, p),
        P: parts,
      };
      putChunks(e, 'D', text.slice(p * perRow, (p + 1) * perRow));
      rows.push(e as TableEntity);
    }
  }
  return rows;
}

export interface StoreOptions {
  connectionString: string;
  tableName: string;
  log: HostLogger;
  /** Stop retrying when this returns true (shutdown). */
  stopped: () => boolean;
}

export class StorageUnavailableError extends Error {}

export class DurableStore {
  readonly table: TableClient;
  private readonly log: HostLogger;
  private readonly stopped: () => boolean;
  private outage: { since: number; lastLog: number } | undefined;

  constructor(opts: StoreOptions) {
    const insecure = /UseDevelopmentStorage=true|https?:\/\/(127\.0\.0\.1|localhost|\[::1\])/i.test(
      opts.connectionString,
    );
    this.table = TableClient.fromConnectionString(opts.connectionString, opts.tableName, {
      allowInsecureConnection: insecure,
      retryOptions: { maxRetries: 0 },
    });
    this.log = opts.log;
    this.stopped = opts.stopped;
  }

  /**
   * Runs `op` until it succeeds. Storage outages (emulator restarting, network) are waited out with
   * exponential back-off (50 ms → 5 s), logged once when they start, every 30 s while they last, and
   * when they end. Gives up only on shutdown.
   */
  async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    let delay = 50;
    for (;;) {
      try {
        const r = await op();
        if (this.outage) {
          this.log.warn(
            `durable: storage is back after ${Date.now() - this.outage.since} ms; resuming (${what})`,
          );
          this.outage = undefined;
        }
        return r;
      } catch (err: any) {
        if (!isTransient(err)) throw err;
        const now = Date.now();
        if (!this.outage) {
          this.outage = { since: now, lastLog: now };
          this.log.warn(
            `durable: storage unavailable (${what}: ${describeError(err)}); retrying with back-off`,
          );
        } else if (now - this.outage.lastLog > 30_000) {
          this.outage.lastLog = now;
          this.log.warn(
            `durable: storage still unavailable after ${now - this.outage.since} ms (${describeError(err)})`,
          );
        }
        if (this.stopped())
          throw new StorageUnavailableError(`storage unavailable during shutdown: ${describeError(err)}`);
        await new Promise((r) => setTimeout(r, delay).unref?.());
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  async init(): Promise<void> {
    await this.retry('create table', async () => {
      try {
        await this.table.createTable();
      } catch (err: any) {
        if (err?.statusCode !== 409) throw err;
      }
    });
  }

  async loadInstances(): Promise<InstanceRecord[]> {
    return this.retry('load instances', async () => {
      const out: InstanceRecord[] = [];
      const it = this.table.listEntities({ queryOptions: { filter: `RowKey eq '${INSTANCE_ROW}'` } });
      for await (const e of it) out.push(instanceFromEntity(e as Record<string, unknown>));
      return out;
    });
  }

  async loadInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.retry('load instance', async () => {
      try {
        const e = await this.table.getEntity(encodeKey(id), INSTANCE_ROW);
        return instanceFromEntity(e as Record<string, unknown>);
      } catch (err: any) {
        if (err?.statusCode === 404) return undefined;
        throw err;
      }
    });
  }

  /** History of execution `execSeq` (episode order) and unconsumed inbox messages. */
  async loadPartition(id: string, execSeq: number): Promise<LoadedPartition> {
    const pk = encodeKey(id).replace(/'/g, "''");
    return this.retry('load history', async () => {
      const rows: Array<Record<string, unknown>> = [];
      const it = this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${pk}'` } });
      for await (const e of it) rows.push(e as Record<string, unknown>);
      rows.sort((a, b) => (String(a.rowKey) < String(b.rowKey) ? -1 : 1));
      const prefix = `H${String(execSeq).padStart(6, '0')}`;
      const episodes: EpisodeRecord[] = [];
      const inbox: LoadedPartition['inbox'] = [];
      const staleKeys: string[] = [];
      let pending = '';
      for (const r of rows) {
        const key = String(r.rowKey);
        if (key.startsWith('H')) {
          if (!key.startsWith(prefix)) {
            staleKeys.push(key);
            continue;
          }
          pending += getChunks(r, 'D') ?? '';
          const part = Number(key.slice(-3));
          if (part === Number(r.P) - 1) {
            for (const ep of JSON.parse(pending) as EpisodeRecord[]) episodes.push(ep);
            pending = '';
          }
        } else if (key.startsWith('M')) {
          inbox.push({ key, msg: JSON.parse(String(r.Msg)) as InboxMessage });
        }
      }
      let watermark = '';
      for (const ep of episodes) if (ep.w && ep.w > watermark) watermark = ep.w;
      const unconsumed = inbox.filter((m) => m.key > watermark);
      for (const m of inbox) if (m.key <= watermark) staleKeys.push(m.key);
      return { episodes, inbox: unconsumed, staleKeys };
    });
  }

  /** Writes rows of one partition atomically (one entity: a plain upsert). */
  async write(what: string, entities: TableEntity[]): Promise<void> {
    if (entities.length === 0) return;
    if (entities.length === 1) {
      await this.retry(what, () => this.table.upsertEntity(entities[0]!, 'Replace'));
      return;
    }
    const actions: TransactionAction[] = entities.map((e) => ['upsert', e, 'Replace']);
    for (let i = 0; i < actions.length; i += 100) {
      const slice = actions.slice(i, i + 100);
      await this.retry(what, () => this.table.submitTransaction(slice));
    }
  }

  async putInbox(id: string, key: string, msg: InboxMessage): Promise<void> {
    await this.write('save message', [
      { partitionKey: encodeKey(id), rowKey: key, Msg: JSON.stringify(msg) },
    ]);
  }

  /** Deletes rows of one partition, ignoring rows already gone. */
  async deleteRows(id: string, keys: string[]): Promise<void> {
    const pk = encodeKey(id);
    for (let i = 0; i < keys.length; i += 100) {
      const slice = keys.slice(i, i + 100);
      await this.retry('delete rows', async () => {
        try {
          if (slice.length === 1) await this.table.deleteEntity(pk, slice[0]!);
          else
            await this.table.submitTransaction(slice.map((k) => ['delete', { partitionKey: pk, rowKey: k }]));
        } catch (err: any) {
          if (err?.statusCode !== 404) throw err;
          // A batch fails as a whole when one row is missing: fall back to one by one.
          if (slice.length > 1) {
            for (const k of slice) {
              try {
                await this.table.deleteEntity(pk, k);
              } catch (e: any) {
                if (e?.statusCode !== 404) throw e;
              }
            }
          }
        }
      });
    }
  }

  /** Deletes history rows of executions before `execSeq` (continueAsNew, restart of a finished id). */
  async purgeOlder(id: string, execSeq: number): Promise<void> {
    const keys = (await this.listKeys(id)).filter(
      (k) => k.startsWith('H') && Number(k.slice(1, 7)) < execSeq,
    );
    await this.deleteRows(id, keys);
  }

  private async listKeys(id: string): Promise<string[]> {
    const pk = encodeKey(id).replace(/'/g, "''");
    return this.retry('list rows', async () => {
      const out: string[] = [];
      const it = this.table.listEntities({
        queryOptions: { filter: `PartitionKey eq '${pk}'`, select: ['RowKey'] },
      });
      for await (const e of it) out.push(String(e.rowKey));
      return out;
    });
  }

  /** Deletes every row of an instance. */
  async purge(id: string): Promise<void> {
    const keys = await this.listKeys(id);
    // The instance row last, so that a crash mid-purge leaves a findable instance.
    await this.deleteRows(
      id,
      keys.filter((k) => k !== INSTANCE_ROW),
    );
    await this.deleteRows(id, [INSTANCE_ROW]);
  }
}

function isTransient(err: any): boolean {
  const status = err?.statusCode;
  if (typeof status === 'number') return status === 408 || status === 429 || status >= 500;
  return true; // no HTTP status: connection refused/reset, timeouts
}

function describeError(err: any): string {
  return String(err?.code ?? err?.statusCode ?? err?.message ?? err).slice(0, 200);
}
