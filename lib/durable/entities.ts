/**
 * Durable entities: each entity (`@name@key`) is an actor with a queue of requests (entity-scheduler.ts
 * decides what runs next), its state, and one Table row (`E` in the partition of its id) holding all
 * of it: state, queue, lock holder, the ids of recent requests with their answers (to recognise a
 * request sent again after a crash), and the messages it still has to send (its outbox).
 *
 * - A request is acknowledged (a client signal's 202, an orchestration's commit of its `EventSent`)
 *   only once it is saved in the entity's row.
 * - A batch's new state, the removal of its requests and the messages it sends are saved in one write;
 *   the messages go out after it (answers as events to orchestrations, signals and lock hand-offs to
 *   entities), then leave the outbox. After a crash, saved outboxes are sent again; receivers ignore a
 *   request id they have seen (an orchestration ignores an answer it no longer waits for).
 */
import type { TableEntity } from '@azure/data-tables';
import type { HostContext } from '../host/types';
import {
  applyStep,
  nextStep,
  parseSchedulerId,
  type EntityRequest,
  type EntitySchedule,
  type Step,
} from './entity-scheduler';
import { encodeKey, getChunks, putChunks, type DurableStore } from './store';

export const ENTITY_ROW = 'E';
/** Request ids remembered per entity (with their answers) to recognise a request sent twice. */
const RECENT = 1000;

type Outgoing =
  | { to: 'entity'; target: string; request: EntityRequest }
  | { to: 'orchestration'; instanceId: string; name: string; input: string };

interface Entity {
  id: string;
  name: string;
  key: string;
  exists: boolean;
  /** JSON text of the state. */
  state: string | null;
  schedule: EntitySchedule;
  /** Recent request id → JSON text of its answer ('' for signals, locks, releases). */
  recent: Map<string, string>;
  outbox: Outgoing[];
  lastOpMs: number;
  running: boolean;
  /** The write in progress and the one queued after it (coalesces concurrent changes). */
  writing?: Promise<void>;
  next?: Promise<void>;
}

export interface EntityView {
  name: string;
  key: string;
  exists: boolean;
  state: unknown;
  lastOperationMs: number;
}

export interface EntityHostDeps {
  ctx: HostContext;
  store: DurableStore;
  /** Whether an orchestration instance is still running. */
  alive(instanceId: string): boolean;
  /** Delivers an event to an orchestration durably (its inbox); ignores finished or unknown instances. */
  sendEvent(instanceId: string, name: string, input: string): Promise<void>;
  now(): number;
  /** Invokes an entity function (on an episode worker thread when there are any). */
  invoke(entityId: string, functionName: string, triggerValue: unknown): Promise<unknown>;
  track<T>(p: Promise<T>): Promise<T>;
  stopping(): boolean;
}

export class EntityHost {
  private readonly entities = new Map<string, Entity>();

  constructor(private readonly deps: EntityHostDeps) {}

  /** Loads every saved entity; sends what their outboxes hold and resumes their queues. */
  async load(): Promise<void> {
    const rows = await this.deps.store.retry('load entities', async () => {
      const out: Array<Record<string, unknown>> = [];
      const it = this.deps.store.table.listEntities({
        queryOptions: { filter: `RowKey eq '${ENTITY_ROW}'` },
      });
      for await (const e of it) out.push(e as Record<string, unknown>);
      return out;
    });
    for (const r of rows) {
      const e = fromRow(r);
      this.entities.set(e.id, e);
    }
  }

  /** After the engine has started: sends saved outboxes, runs queued requests. */
  resume(): void {
    for (const e of this.entities.values()) {
      if (e.outbox.length) this.deps.track(this.flushOutbox(e)).catch(() => {});
      this.kick(e);
    }
  }

  /** Queues a request for an entity; resolves once it is saved (or recognised as already seen). */
  async enqueue(target: string, request: EntityRequest): Promise<void> {
    const e = this.entity(target);
    if (!e) throw new Error(`'${target}' is not an entity id (@name@key).`);
    const seen = e.recent.get(request.id);
    if (seen !== undefined) {
      // Sent again (the sender replayed after a crash): answer again, do not run it again.
      if (seen && request.parent) await this.deps.sendEvent(request.parent, request.id, seen);
      // A lock this entity passed on: pass it on again, the last entity of the set answers again.
      else if (request.kind === 'lock' && (request.position ?? 0) + 1 < (request.lockSet?.length ?? 0)) {
        const position = (request.position ?? 0) + 1;
        await this.enqueue(request.lockSet![position]!, { ...request, position });
      }
      return;
    }
    if (e.schedule.queue.some((r) => r.id === request.id)) return this.persist(e);
    e.schedule.queue.push(request);
    await this.persist(e);
    this.kick(e);
  }

  /** An orchestration ended: entities it locked let go. */
  instanceEnded(instanceId: string): void {
    for (const e of this.entities.values())
      if (e.schedule.lockedBy === instanceId || e.schedule.queue.some((r) => r.parent === instanceId))
        this.kick(e);
  }

  read(name: string, key: string): EntityView | undefined {
    const e = this.entities.get(`@${name.toLowerCase()}@${key}`);
    return e && e.exists ? view(e) : undefined;
  }

  list(name?: string): EntityView[] {
    const out: EntityView[] = [];
    for (const e of this.entities.values())
      if (e.exists && (name === undefined || e.name === name.toLowerCase())) out.push(view(e));
    return out.sort((a, b) => (a.name === b.name ? (a.key < b.key ? -1 : 1) : a.name < b.name ? -1 : 1));
  }

  /** Whether any entity function runs or a write is pending (graceful stop waits for them). */
  busy(): boolean {
    for (const e of this.entities.values()) if (e.running || e.writing) return true;
    return false;
  }

  private entity(id: string): Entity | undefined {
    let e = this.entities.get(id);
    if (e) return e;
    const parsed = parseSchedulerId(id);
    if (!parsed) return undefined;
    e = {
      id,
      name: parsed.name,
      key: parsed.key,
      exists: false,
      state: null,
      schedule: { queue: [] },
      recent: new Map(),
      outbox: [],
      lastOpMs: 0,
      running: false,
    };
    this.entities.set(id, e);
    return e;
  }

  private kick(e: Entity): void {
    if (e.running || this.deps.stopping()) return;
    e.running = true;
    this.deps
      .track(this.drain(e))
      .catch((err) =>
        this.deps.ctx.log.error(
          `durable: entity '${e.id}' stopped on an internal error: ${err?.stack ?? err}`,
        ),
      )
      .finally(() => {
        e.running = false;
      });
  }

  private async drain(e: Entity): Promise<void> {
    const opts = { alive: (id: string) => this.deps.alive(id) };
    for (;;) {
      if (this.deps.stopping()) return;
      const step = nextStep(e.schedule, opts);
      if (step.kind === 'idle') return;
      if (step.kind === 'batch') await this.runBatch(e, step);
      else this.applyControl(e, step);
      applyStep(e.schedule, step);
      await this.persist(e);
      await this.flushOutbox(e);
    }
  }

  private applyControl(e: Entity, step: Exclude<Step, { kind: 'batch' } | { kind: 'idle' }>): void {
    const r = step.request;
    const set = r.lockSet ?? [];
    const pos = r.position ?? 0;
    if (step.kind !== 'lock' || !r.parent) {
      this.remember(e, r.id, '');
      return;
    }
    if (pos + 1 < set.length) {
      this.remember(e, r.id, '');
      e.outbox.push({ to: 'entity', target: set[pos + 1]!, request: { ...r, position: pos + 1 } });
      return;
    }
    // The last entity of the set answers the orchestration: its lock task completes. The answer is
    // remembered like a call's, so a lock request sent again after a crash is answered again.
    const answer = JSON.stringify({ result: 'null' });
    this.remember(e, r.id, answer);
    e.outbox.push({ to: 'orchestration', instanceId: r.parent, name: r.id, input: answer });
  }

  /** Runs one batch through the app's entity function and records answers and signals. */
  private async runBatch(e: Entity, step: Extract<Step, { kind: 'batch' }>): Promise<void> {
    const fn = [...this.deps.ctx.functions.values()].find(
      (f) => f.trigger.type === 'entityTrigger' && f.name.toLowerCase() === e.name,
    );
    const binding = {
      self: { name: e.name, key: e.key },
      exists: e.exists,
      state: e.state ?? undefined,
      batch: step.requests.map((r) => ({
        name: r.op,
        input: r.input ?? undefined,
        id: r.id,
        signal: !!r.signal,
      })),
    };
    let out: any;
    let failure: string | undefined;
    if (!fn)
      failure = `The entity function '${e.name}' doesn't exist or is not an entity function. Register it with df.app.entity('${e.name}', handler).`;
    else {
      try {
        out = await this.deps.invoke(e.id, fn.name, binding);
        if (!out || typeof out !== 'object' || !Array.isArray(out.results))
          failure = `the entity function '${fn.name}' did not return an entity state (is it registered with df.app.entity?)`;
      } catch (err: any) {
        failure = String(err?.message ?? err);
      }
    }
    e.lastOpMs = this.deps.now();
    if (failure === undefined) {
      e.exists = !!out.entityExists;
      e.state = e.exists && typeof out.entityState === 'string' ? out.entityState : null;
    }
    step.requests.forEach((r, i) => {
      const res = out?.results?.[i];
      let answer = '';
      if (!r.signal && r.parent) {
        answer =
          failure !== undefined
            ? JSON.stringify({ result: JSON.stringify(failure), exceptionType: 'Error' })
            : JSON.stringify(
                res?.isError ? { result: res.result, exceptionType: 'Error' } : { result: res?.result },
              );
        e.outbox.push({ to: 'orchestration', instanceId: r.parent, name: r.id, input: answer });
      }
      this.remember(e, r.id, answer);
    });
    if (failure !== undefined) {
      this.deps.ctx.log.warn(
        `durable: entity '${e.id}' failed a batch of ${step.requests.length}: ${failure}`,
      );
      return;
    }
    (out.signals ?? []).forEach((s: any, j: number) => {
      const target = `@${String(s?.target?.name ?? '').toLowerCase()}@${String(s?.target?.key ?? '')}`;
      e.outbox.push({
        to: 'entity',
        target,
        request: {
          id: `${s.requestId ?? step.requests[0]!.id}>${j}`,
          kind: 'op',
          op: String(s.name),
          input: s.input || null,
          signal: true,
        },
      });
    });
  }

  private remember(e: Entity, id: string, answer: string): void {
    e.recent.set(id, answer);
    if (e.recent.size > RECENT) e.recent.delete(e.recent.keys().next().value!);
  }

  /** Sends the outbox (saved already), then forgets it at the next write. */
  private async flushOutbox(e: Entity): Promise<void> {
    while (e.outbox.length) {
      const m = e.outbox[0]!;
      if (m.to === 'entity') await this.enqueue(m.target, m.request);
      else await this.deps.sendEvent(m.instanceId, m.name, m.input);
      e.outbox.shift();
    }
  }

  /** Saves the entity's row; concurrent callers share the next write, which includes their change. */
  private persist(e: Entity): Promise<void> {
    if (e.next) return e.next;
    const busy = e.writing;
    const run = async (): Promise<void> => {
      if (busy) await busy.catch(() => {});
      e.next = undefined;
      // The row is taken now, so it holds every change made before this write started.
      const p = this.deps.store.write('save entity', [toRow(e)]);
      e.writing = p;
      try {
        await p;
      } finally {
        if (e.writing === p) e.writing = undefined;
      }
    };
    const p = run();
    if (busy) e.next = p;
    return p;
  }
}

function view(e: Entity): EntityView {
  return {
    name: e.name,
    key: e.key,
    exists: e.exists,
    state: e.state === null ? null : JSON.parse(e.state),
    lastOperationMs: e.lastOpMs,
  };
}

function toRow(e: Entity): TableEntity {
  const row: Record<string, unknown> = {
    partitionKey: encodeKey(e.id),
    rowKey: ENTITY_ROW,
    EntityId: e.id,
    Exists: e.exists,
    LockedBy: e.schedule.lockedBy ?? '',
    LastOpMs: e.lastOpMs,
  };
  putChunks(row, 'St', e.state);
  putChunks(row, 'Q', JSON.stringify(e.schedule.queue));
  putChunks(row, 'Rc', JSON.stringify([...e.recent]));
  putChunks(row, 'Ob', JSON.stringify(e.outbox));
  return row as TableEntity;
}

function fromRow(r: Record<string, unknown>): Entity {
  const id = String(r.EntityId);
  const parsed = parseSchedulerId(id) ?? { name: id, key: '' };
  return {
    id,
    name: parsed.name,
    key: parsed.key,
    exists: r.Exists === true,
    state: getChunks(r, 'St'),
    schedule: {
      queue: JSON.parse(getChunks(r, 'Q') ?? '[]') as EntityRequest[],
      lockedBy: r.LockedBy ? String(r.LockedBy) : undefined,
    },
    recent: new Map(JSON.parse(getChunks(r, 'Rc') ?? '[]') as Array<[string, string]>),
    outbox: JSON.parse(getChunks(r, 'Ob') ?? '[]') as Outgoing[],
    lastOpMs: typeof r.LastOpMs === 'number' ? r.LastOpMs : Number(r.LastOpMs ?? 0),
    running: false,
  };
}
