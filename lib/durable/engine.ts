/**
 * The durable engine: an in-memory, authoritative cache of instances with write-through commits.
 *
 * Each instance is an actor: messages (start, activity/timer/sub-orchestration completions, external
 * events, terminate/suspend/resume) queue in `pending`; one drain loop per instance runs episodes one
 * at a time: replay the orchestrator with the history, plan (episode.ts), commit the episode as one
 * Table transaction in the instance's partition, then dispatch timers and sub-orchestrations.
 * Activities are dispatched as soon as they are planned (before the commit): should the process die
 * first, the replay after restart schedules them again, which is the at-least-once contract.
 * Completions live in memory until the next episode commits them; pending work is recovered from the
 * history on start (scheduled but not completed = to do), so the hot path has no queue round trips.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { HostContext } from '../host/types';
import { getClock, type ClockTimer } from '../host/clock';
import {
  Ev,
  HTTP_ACTIVITY,
  HTTP_POLL_DEFAULT_MS,
  isTerminal,
  parseJsonText,
  tryJsonParse,
  type HistoryEvent,
  type RuntimeStatus,
} from './history';
import {
  applyEvent,
  completionId,
  isSagaTrigger,
  newExecState,
  planEpisode,
  type ExecState,
  type OpenOp,
  type Work,
} from './episode';
import {
  DurableStore,
  commitEntities,
  instanceEntity,
  newInboxKey,
  type EpisodeRecord,
  type InboxMessage,
  type InstanceRecord,
} from './store';
import { Semaphore } from './semaphore';
import { EpisodePool } from './episode-pool';
import { performDurableHttp } from './http-activity';
import { EntityHost } from './entities';

type Msg =
  | { kind: 'start' }
  | { kind: 'event'; ev: HistoryEvent; key?: string }
  | { kind: 'control'; op: 'terminate' | 'suspend' | 'resume'; reason: string; key?: string };

export interface Instance {
  /** The working record: ahead of storage while commits are in flight. */
  rec: InstanceRecord;
  /** The record as last committed: what clients see. */
  committed: InstanceRecord;
  /** History of the current execution is in memory (always for non-terminal instances). */
  loaded: boolean;
  history: HistoryEvent[];
  /** The compact history handed to durable-functions (only the events it reads). */
  replay: any[];
  exec: ExecState;
  episode: number;
  pending: Msg[];
  running: boolean;
  lastMs: number;
  timers: Map<number, ClockTimer>;
  waiters: Array<() => void>;
  /** Inbox rows consumed by committed episodes, deleted in the background. */
  consumed: string[];
  /** Episodes planned but not yet committed, oldest first (group commit). */
  outbox: OutboxItem[];
  writing: boolean;
  /** Called whenever the outbox shrinks. */
  drained: Array<() => void>;
  /** Set until the instance row is first written; resolves when it is. */
  created?: Promise<void>;
  onCreated?: () => void;
  onCreateFailed?: (err: Error) => void;
  /** The committed prefix of a history array (clients see committed history only). */
  committedHistory: { events: HistoryEvent[]; length: number };
}

interface OutboxItem {
  execSeq: number;
  episode: number;
  record: EpisodeRecord;
  /** The instance record after this episode. */
  snapshot: InstanceRecord;
  /** Whether the instance row must be written (status, custom status or execution changed). */
  writeInstance: boolean;
  /** The history array and its length after this episode. */
  history: HistoryEvent[];
  historyLength: number;
  after?: () => void;
}

/** Uncommitted episodes an instance may run ahead of storage before it waits. */
const MAX_AHEAD = 48;
/** Characters of history per commit request (UTF-16 doubles them; the transaction limit is 4 MiB). */
const MAX_COMMIT_CHARS = 1_500_000;

/** Inputs and outputs live in the instance row (≤ 1 MiB with UTF-16): keep each well below. */
const MAX_VALUE_CHARS = 400_000;
/** Azure limits custom status to 16 KB. */
const MAX_CUSTOM_STATUS_CHARS = 16 * 1024;

function oversized(
  outcome: { kind: string; output?: unknown; input?: string | null },
  customStatus: string | null,
): string | undefined {
  if (customStatus !== null && customStatus.length > MAX_CUSTOM_STATUS_CHARS) {
    return `the custom status is ${customStatus.length} characters; at most ${MAX_CUSTOM_STATUS_CHARS} are allowed.`;
  }
  let text: string | null | undefined;
  if (outcome.kind === 'completed') text = JSON.stringify(outcome.output ?? null);
  else if (outcome.kind === 'continueAsNew') text = outcome.input;
  if (text && text.length > MAX_VALUE_CHARS) {
    return (
      `the ${outcome.kind === 'completed' ? 'output' : 'continueAsNew input'} is ${text.length} characters; ` +
      `the local host stores at most ${MAX_VALUE_CHARS}. Store large values in a blob and return a reference.`
    );
  }
  return undefined;
}

function rowsSize(rows: Array<Record<string, unknown>>): number {
  let n = 0;
  for (const r of rows) for (const v of Object.values(r)) if (typeof v === 'string') n += v.length;
  return n;
}

export interface EngineOptions {
  hubName: string;
  maxActivities: number;
  maxOrchestrators: number;
  /**
   * Orchestrator episodes run on worker threads and fail past this many ms (episode-pool.ts);
   * 0 runs them on the main thread, unbounded.
   */
  episodeTimeoutMs: number;
  /** How the limit is named in a timeout failure. */
  episodeLimitSource: string;
  /** Worker threads for episodes. */
  episodeWorkers: number;
  /** Whether per-invocation success lines are logged (host.json logging level). */
  logSuccess: boolean;
}

/** Orchestrator trigger value fields this host always sends (reference §2.1, §2.3). */
const BINDING_CONSTANTS = {
  upperSchemaVersion: 1,
  // Schema V4: V3 plus entity locks (LockEntities / ReleaseEntities).
  upperSchemaVersionNew: 3,
  // Every timer is one CreateTimer: no long-timer splitting needed.
  maximumShortTimerDuration: '3650.00:00:00',
  longRunningTimerIntervalDuration: '3.00:00:00',
  defaultHttpAsyncRequestSleepTimeMillseconds: HTTP_POLL_DEFAULT_MS,
};

export class DurableError extends Error {
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'gone' | 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}

export function defaultConcurrency(hostJson: Record<string, any>): {
  activities: number;
  orchestrators: number;
} {
  const dt = hostJson?.extensions?.durableTask ?? {};
  const cores = Math.max(1, os.cpus().length);
  const pick = (v: unknown, d: number): number => (typeof v === 'number' && v >= 1 ? Math.floor(v) : d);
  return {
    activities: pick(dt.maxConcurrentActivityFunctions, 10 * cores),
    orchestrators: pick(dt.maxConcurrentOrchestratorFunctions, 10 * cores),
  };
}

export class DurableEngine {
  readonly instances = new Map<string, Instance>();
  readonly store: DurableStore;
  private readonly activitySlots: Semaphore;
  private readonly orchestratorSlots: Semaphore;
  private stopping = false;
  /** Stopping gracefully: no new work goes out, running work finishes and commits. */
  private draining = false;
  private activitiesRunning = 0;
  private started = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly clock = getClock();
  /** Worker threads for orchestrator episodes (none when `episodeTimeoutMs` is 0). */
  private pool: EpisodePool | undefined;
  /** Durable entities (their queues, state and locks). */
  readonly entities: EntityHost;
  /** Counters for benchmarks: orchestrator invocations, events they replayed, time spent in them. */
  readonly stats = { episodes: 0, replayedEvents: 0, orchestratorMs: 0, commits: 0 };

  constructor(
    private readonly ctx: HostContext,
    readonly opts: EngineOptions,
  ) {
    this.store = new DurableStore({
      connectionString: ctx.storageConnectionString,
      tableName: tableNameFor(opts.hubName),
      log: ctx.log,
      stopped: () => this.stopping,
    });
    this.entities = new EntityHost({
      ctx,
      store: this.store,
      alive: (id) => {
        const inst = this.instances.get(id);
        return !!inst && !isTerminal(inst.rec.status as RuntimeStatus);
      },
      sendEvent: async (id, name, input) => {
        const inst = this.instances.get(id);
        // An answer for an orchestration that has ended is not needed any more.
        if (!inst || isTerminal(inst.rec.status as RuntimeStatus)) return;
        await this.sendDurable(inst, { k: 'event', name, input, at: this.clock.now() });
      },
      now: () => this.clock.now(),
      invoke: async (entityId, name, value) => {
        if (!this.pool) return (await this.ctx.invoke(name, value)).returnValue;
        const out = await this.pool.run({
          id: entityId,
          name,
          replay: [],
          input: () => undefined,
          isReplaying: false,
          entityValue: value,
        });
        if (out.error !== undefined) throw new Error(out.error);
        return out.state;
      },
      track: (p) => this.track(p),
      stopping: () => this.stopping,
    });
    this.activitySlots = new Semaphore(opts.maxActivities);
    this.orchestratorSlots = new Semaphore(opts.maxOrchestrators);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    const hasOrchestrators = [...this.ctx.functions.values()].some((f) =>
      ['orchestrationtrigger', 'entitytrigger'].includes(f.trigger.type.toLowerCase()),
    );
    if (this.opts.episodeTimeoutMs > 0 && hasOrchestrators) {
      // Workers load the app while storage starts; episodes wait for them.
      this.pool = new EpisodePool({
        appDir: this.ctx.appDir,
        size: this.opts.episodeWorkers,
        timeoutMs: this.opts.episodeTimeoutMs,
        limitSource: this.opts.episodeLimitSource,
        bindingConstants: BINDING_CONSTANTS,
        logSuccess: this.opts.logSuccess,
        log: this.ctx.log,
      });
    }
    try {
      await this.startStore();
    } catch (e) {
      await this.pool?.stop();
      throw e;
    }
  }

  private async startStore(): Promise<void> {
    await this.store.init();
    const recs = await this.store.loadInstances();
    await this.entities.load();
    const live: Instance[] = [];
    for (const rec of recs) {
      const inst = newInstance(rec, false);
      this.instances.set(rec.id, inst);
      if (!isTerminal(rec.status as RuntimeStatus)) live.push(inst);
    }
    // Load histories a few at a time: enough to hide storage latency, few enough not to flood it.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < live.length) await this.loadLive(live[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(8, live.length) }, worker));
    this.started = true;
    if (live.length) this.ctx.log.info(`durable: resumed ${live.length} unfinished instance(s)`);
    for (const inst of live) this.resumeWork(inst);
    this.entities.resume();
  }

  /**
   * Graceful stop: dispatch no new work, let running activities finish and commit their results
   * (bounded by `drainMs`), then stop. Work scheduled but not started stays in history and runs after the
   * next start; timers are re-armed from history then.
   */
  async stop(drainMs = 10_000): Promise<void> {
    this.draining = true;
    for (const inst of this.instances.values()) {
      for (const t of inst.timers.values()) t.cancel();
      inst.timers.clear();
    }
    const drainUntil = Date.now() + drainMs;
    while (Date.now() < drainUntil && this.busy()) {
      // An episode stuck in its worker would hold the stop until its limit: give up on it after a
      // moment (its events are not committed, so the next start replays them).
      if (this.activitiesRunning === 0 && (this.pool?.runningLongerThan(2000) ?? false)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopping = true;
    for (const inst of this.instances.values()) {
      if (inst.onCreated && inst.outbox.length === 0) {
        inst.onCreateFailed?.(
          new DurableError(
            'unavailable',
            'The host is stopping; the instance was not started. Start it again.',
          ),
        );
      }
    }
    const deadline = Date.now() + 5000;
    while (this.inflight.size && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, 100))]);
    }
    await this.pool?.stop();
  }

  /** Activities running, episodes running, or commits pending. */
  private busy(): boolean {
    if (this.activitiesRunning > 0 || this.entities.busy()) return true;
    for (const inst of this.instances.values())
      if (inst.running || inst.writing || inst.outbox.length) return true;
    return false;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => {});
    return p;
  }

  /** Reads an unfinished instance's current execution from storage and rebuilds its state. */
  private async loadLive(inst: Instance): Promise<void> {
    const part = await this.store.loadPartition(inst.rec.id, inst.rec.execSeq);
    this.rebuild(inst, part.episodes);
    const floor = inst.rec.inboxFloor ?? '';
    for (const { key, msg } of part.inbox) {
      if (key <= floor) {
        part.staleKeys.push(key);
        continue;
      }
      inst.pending.push(messageFromInbox(msg, key));
    }
    if (part.staleKeys.length) this.background(this.store.deleteRows(inst.rec.id, part.staleKeys));
  }

  private rebuild(inst: Instance, episodes: Array<{ e: HistoryEvent[]; l: any[] }>): void {
    inst.history = [];
    inst.replay = [];
    inst.exec = newExecState();
    inst.episode = 0;
    for (const ep of episodes) {
      for (const ev of ep.e) {
        inst.history.push(ev);
        applyEvent(inst.exec, ev);
        const r = replayEvent(ev);
        if (r) {
          r.IsPlayed = true;
          inst.replay.push(r);
        }
      }
      for (const l of ep.l) inst.exec.leaves.push(l);
      inst.episode++;
    }
    const last = inst.history[inst.history.length - 1];
    if (last) inst.lastMs = Date.parse(last.Timestamp);
    inst.committedHistory = { events: inst.history, length: inst.history.length };
    // Pending → Running is not written to the instance row: having history means running.
    if (inst.rec.status === 'Pending' && episodes.length > 0) {
      inst.rec = { ...inst.rec, status: 'Running', updatedMs: inst.lastMs };
      inst.committed = inst.rec;
    }
    inst.loaded = true;
  }

  /** After recovery: redo what was pending when the process stopped. */
  private resumeWork(inst: Instance): void {
    if (inst.history.length === 0 && !inst.pending.some((m) => m.kind === 'start')) {
      inst.pending.unshift({ kind: 'start' });
    }
    const execSeq = inst.rec.execSeq;
    for (const op of inst.exec.open.values()) {
      if (op.kind === 'activity')
        this.runActivity(
          inst,
          { kind: 'activity', id: op.id, name: op.name!, input: op.input ?? null },
          execSeq,
        );
      else if (op.kind === 'timer') this.armTimer(inst, op.id, op.fireAt!);
      else this.recoverChild(inst, op);
    }
    this.kick(inst);
  }

  private recoverChild(parent: Instance, op: OpenOp): void {
    const child = this.instances.get(op.instanceId!);
    if (child && child.rec.parentId === parent.rec.id && child.rec.parentTaskId === op.id) {
      if (isTerminal(child.rec.status as RuntimeStatus)) this.notifyParent(child);
      return;
    }
    this.startChild(parent, {
      kind: 'sub',
      id: op.id,
      name: op.name!,
      instanceId: op.instanceId!,
      input: op.input ?? null,
      version: op.version,
    });
  }

  private background(p: Promise<unknown>): void {
    this.track(p).catch((err) =>
      this.ctx.log.warn(`durable: background cleanup failed: ${String(err?.message ?? err)}`),
    );
  }

  // ---------------------------------------------------------------- client operations

  isOrchestrator(name: string): boolean {
    return this.ctx.functions.get(name)?.trigger.type === 'orchestrationTrigger';
  }

  /** Starts (or idempotently re-acknowledges) an instance. Returns its id. */
  async startNew(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
  ): Promise<string> {
    if (!this.isOrchestrator(name)) {
      const known = [...this.ctx.functions.values()]
        .filter((f) => f.trigger.type === 'orchestrationTrigger')
        .map((f) => f.name);
      throw new DurableError(
        'invalid',
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function. ` +
          `Orchestrator functions in this app: ${known.length ? known.join(', ') : '(none)'}.`,
      );
    }
    if (input !== null && input.length > MAX_VALUE_CHARS) {
      throw new DurableError(
        'invalid',
        `The orchestration input is ${input.length} characters; the local host stores at most ` +
          `${MAX_VALUE_CHARS} (Azure Table entity limit). Pass a reference (e.g. a blob name) instead.`,
      );
    }
    const id = instanceId ?? randomUUID().replace(/-/g, '');
    const existing = this.instances.get(id);
    if (existing) await this.settle(existing);
    if (existing && !isTerminal(existing.rec.status as RuntimeStatus)) {
      if (existing.rec.name === name && existing.rec.input === input) {
        await existing.created; // a retried start: acknowledge once the first start is durable
        return id;
      }
      throw new DurableError(
        'conflict',
        `An instance with ID '${id}' already exists and is ${existing.rec.status} (orchestrator ` +
          `'${existing.rec.name}'). Wait for it to finish, terminate it, or start with another instance ID.`,
      );
    }
    await this.createInstance(name, id, input, version ?? null, null);
    return id;
  }

  private async createInstance(
    name: string,
    id: string,
    input: string | null,
    version: string | null,
    parent: { id: string; taskId: number; execSeq: number } | null,
  ): Promise<Instance> {
    const old = this.instances.get(id);
    const now = this.clock.now();
    const rec: InstanceRecord = {
      id,
      name,
      status: 'Pending',
      execSeq: (old?.rec.execSeq ?? 0) + 1,
      executionId: randomUUID().replace(/-/g, ''),
      input,
      output: null,
      customStatus: null,
      failureDetails: null,
      createdMs: now,
      updatedMs: now,
      parentId: parent?.id ?? null,
      parentTaskId: parent?.taskId ?? null,
      parentExecSeq: parent?.execSeq ?? null,
      version,
      inboxFloor: newInboxKey(now),
    };
    const inst = newInstance(rec, true);
    if (old) {
      for (const t of old.timers.values()) t.cancel();
      old.pending.length = 0;
    }
    this.instances.set(id, inst);
    // The instance row goes out with the first episode's commit (one storage request, not two); the
    // start is acknowledged once that commit is durable.
    inst.created = new Promise<void>((resolve, reject) => {
      inst.onCreated = resolve;
      inst.onCreateFailed = reject;
    });
    inst.pending.push({ kind: 'start' });
    this.kick(inst);
    await this.track(inst.created);
    if (old) this.background(this.store.purgeOlder(id, rec.execSeq));
    return inst;
  }

  /** Waits until a finishing instance's last commit is written, so a new start cannot race it. */
  private async settle(inst: Instance): Promise<void> {
    while (isTerminal(inst.rec.status as RuntimeStatus) && inst.outbox.length > 0) {
      await new Promise<void>((r) => inst.drained.push(r));
    }
  }

  private requireLive(id: string): Instance {
    const inst = this.instances.get(id);
    if (!inst) throw new DurableError('not-found', `No instance with ID '${id}' found.`);
    if (isTerminal(inst.rec.status as RuntimeStatus)) {
      throw new DurableError('gone', `The instance '${id}' is ${inst.rec.status}: it takes no more events.`);
    }
    return inst;
  }

  /** Persists the message, then delivers it. Resolves once it is durable. */
  private async sendDurable(inst: Instance, msg: InboxMessage): Promise<void> {
    const key = newInboxKey(this.clock.now());
    await this.track(this.store.putInbox(inst.rec.id, key, msg));
    this.deliver(inst, messageFromInbox(msg, key));
  }

  async raiseEvent(id: string, name: string, input: string | null): Promise<void> {
    const inst = this.requireLive(id);
    await this.sendDurable(inst, { k: 'event', name, input, at: this.clock.now() });
  }

  async control(id: string, op: 'terminate' | 'suspend' | 'resume', reason: string): Promise<void> {
    const inst = this.requireLive(id);
    await this.sendDurable(inst, { k: op, reason, at: this.clock.now() });
  }

  /** Deletes a finished instance. Returns false when there is no such instance. */
  async purge(id: string): Promise<boolean> {
    const inst = this.instances.get(id);
    if (!inst) return false;
    if (!isTerminal(inst.committed.status as RuntimeStatus)) {
      throw new DurableError(
        'conflict',
        `The instance '${id}' is ${inst.rec.status}; only finished instances (Completed, Failed, Terminated) ` +
          `can be purged. Terminate it first.`,
      );
    }
    this.instances.delete(id);
    await this.track(this.store.purge(id));
    return true;
  }

  /** The current execution's history (loads it for finished instances). */
  async historyOf(inst: Instance): Promise<HistoryEvent[]> {
    if (inst.loaded) return inst.committedHistory.events.slice(0, inst.committedHistory.length);
    const part = await this.store.loadPartition(inst.rec.id, inst.rec.execSeq);
    return part.episodes.flatMap((e) => e.e);
  }

  /** Resolves when the instance is finished (tests and benchmarks). */
  waitFor(id: string): Promise<void> {
    const inst = this.instances.get(id);
    if (!inst || isTerminal(inst.committed.status as RuntimeStatus)) return Promise.resolve();
    return new Promise((resolve) => inst.waiters.push(resolve));
  }

  // ---------------------------------------------------------------- the actor

  private deliver(inst: Instance, msg: Msg): void {
    if (this.instances.get(inst.rec.id) !== inst) return; // purged or replaced
    if (isTerminal(inst.rec.status as RuntimeStatus)) {
      if (msg.kind !== 'start' && msg.key) this.background(this.store.deleteRows(inst.rec.id, [msg.key]));
      return;
    }
    // Terminate and suspend take effect before queued work.
    if (msg.kind === 'control' && msg.op !== 'resume') inst.pending.unshift(msg);
    else inst.pending.push(msg);
    this.kick(inst);
  }

  private kick(inst: Instance): void {
    if (inst.running || !this.started || this.stopping) return;
    inst.running = true;
    this.track(this.drain(inst));
  }

  private async drain(inst: Instance): Promise<void> {
    try {
      while (!this.stopping && this.instances.get(inst.rec.id) === inst) {
        const status = inst.rec.status as RuntimeStatus;
        if (isTerminal(status) || inst.pending.length === 0) break;
        const ci = inst.pending.findIndex((m) => m.kind === 'control');
        if (status === 'Suspended' && ci < 0) break;
        if (ci === 0 || status === 'Suspended') {
          const m = inst.pending.splice(ci, 1)[0] as Extract<Msg, { kind: 'control' }>;
          this.applyControl(inst, m);
          continue;
        }
        if (inst.outbox.length >= MAX_AHEAD) {
          await new Promise<void>((r) => inst.drained.push(r));
          continue;
        }
        await this.runEpisode(inst);
      }
    } catch (err: any) {
      if (!this.stopping) {
        this.ctx.log.error(
          `durable: instance '${inst.rec.id}' stopped on an internal error: ${err?.stack ?? err}`,
        );
      }
    } finally {
      inst.running = false;
    }
    if (!this.stopping && inst.pending.length && this.instances.get(inst.rec.id) === inst) {
      const s = inst.rec.status as RuntimeStatus;
      if (!isTerminal(s) && (s !== 'Suspended' || inst.pending.some((m) => m.kind === 'control')))
        this.kick(inst);
    }
  }

  private episodeTime(batch: HistoryEvent[]): number {
    let t = this.clock.now();
    for (const ev of batch)
      if (ev.EventType === Ev.TimerFired && ev.FireAt) t = Math.max(t, Date.parse(ev.FireAt));
    return t;
  }

  /**
   * Runs the episode on a worker thread (episode-pool.ts). Resolves like `ctx.invoke` (the state as
   * `returnValue`) or rejects with the orchestrator's error, whose state rides along as the library's
   * `$OutOfProcData$` text would.
   */
  private async inWorker(inst: Instance, isReplaying: boolean): Promise<{ returnValue: unknown }> {
    const out = await this.pool!.run({
      id: inst.rec.id,
      name: inst.rec.name,
      replay: inst.replay,
      input: () => parseJsonText(inst.rec.input),
      parentInstanceId: inst.rec.parentId ?? undefined,
      isReplaying,
    });
    if (this.stopping) throw new Error('the host is stopping');
    if (out.error === undefined) return { returnValue: out.state };
    throw new Error(`${out.error}\n\n$OutOfProcData$:${JSON.stringify(out.state ?? { error: out.error })}`);
  }

  private async runEpisode(inst: Instance): Promise<void> {
    // Take events up to and including the first saga trigger (reference §3.4).
    const batch: HistoryEvent[] = [];
    let sagaOp: OpenOp | undefined;
    let watermark: string | undefined;
    while (inst.pending.length) {
      const m = inst.pending[0]!;
      if (m.kind === 'control') break;
      inst.pending.shift();
      if (m.kind === 'start') {
        batch.push(this.executionStarted(inst));
        continue;
      }
      if (m.key) {
        watermark = m.key;
        inst.consumed.push(m.key);
      }
      const ev = m.ev;
      const id = completionId(ev);
      if (id !== undefined) {
        const op = inst.exec.open.get(id);
        if (!op) continue; // a duplicate (at-least-once) or stale completion
        if (isSagaTrigger(inst.exec, ev)) {
          sagaOp = op;
          batch.push(ev);
          applyEvent(inst.exec, ev);
          break;
        }
      }
      batch.push(ev);
      applyEvent(inst.exec, ev);
    }
    if (batch.length === 0) return;

    const nowMs = Math.max(this.episodeTime(batch), inst.lastMs);
    inst.lastMs = nowMs;
    const ts = new Date(nowMs).toISOString();
    const started: HistoryEvent = { EventType: Ev.OrchestratorStarted, EventId: -1, Timestamp: ts };
    const input = [started, ...batch];
    const wasReplaying = inst.replay.length > 0;
    const newReplay: any[] = [];
    for (const ev of input) {
      const r = replayEvent(ev);
      if (r) {
        r.IsPlayed = false;
        newReplay.push(r);
        inst.replay.push(r);
      }
    }
    const binding: Record<string, unknown> = {
      // A worker keeps the parsed input between episodes: it is parsed here only when sent (inWorker).
      input: this.pool ? undefined : parseJsonText(inst.rec.input),
      instanceId: inst.rec.id,
      isReplaying: wasReplaying,
      parentInstanceId: inst.rec.parentId ?? undefined,
      ...BINDING_CONSTANTS,
    };
    // Own but not enumerable: durable-functions checks it with hasOwnProperty and reads it, but its
    // recursive Timestamp-to-Date walk (Utils.parseTimestampsAsDates, a third of replay time) skips it.
    // Our OrchestratorStarted events already carry Dates, and no other replayed event has a Timestamp.
    Object.defineProperty(binding, 'history', { value: inst.replay, enumerable: false });

    let state: any;
    let error: string | undefined;
    await this.orchestratorSlots.acquire();
    const t0 = performance.now();
    try {
      const res = this.pool
        ? await this.inWorker(inst, wasReplaying)
        : await this.ctx.invoke(inst.rec.name, binding);
      state = res.returnValue;
      if (!state || typeof state !== 'object' || !('isDone' in state)) {
        error = `the orchestrator did not return an orchestration state (is '${inst.rec.name}' registered with df.app.orchestration?)`;
      }
    } catch (err: any) {
      if (this.stopping) throw err;
      const message = String(err?.message ?? err);
      const i = message.indexOf('$OutOfProcData$:');
      if (i >= 0) {
        try {
          state = JSON.parse(message.slice(i + 16));
        } catch {
          state = undefined;
        }
      }
      error = state?.error ?? (i >= 0 ? message.slice(0, i).trim() : message);
    } finally {
      this.orchestratorSlots.release();
      this.stats.episodes++;
      this.stats.replayedEvents += inst.replay.length;
      this.stats.orchestratorMs += performance.now() - t0;
    }
    for (const r of newReplay) r.IsPlayed = true;

    const plan = planEpisode(
      inst.exec,
      {
        actions: state?.actions,
        isDone: !!state?.isDone,
        output: state?.output,
        error,
        failureDetails: state?.failureDetails,
        sagaTrigger: sagaOp ? batch[batch.length - 1] : undefined,
        nowMs,
        orchestratorName: inst.rec.name,
        executionId: inst.rec.executionId,
        instanceId: inst.rec.id,
      },
      sagaOp,
    );

    // durable-functions reads EventSent (it re-keys entity calls and locks to their request ids).
    for (const ev of plan.events)
      if (ev.EventType === Ev.EventSent) inst.replay.push({ ...replayEvent(ev), IsPlayed: true });
    // When the episode ended (a long or stopped one ends well after its OrchestratorStarted).
    const rec: InstanceRecord = { ...inst.rec, updatedMs: Math.max(nowMs, this.clock.now()) };
    if (state && state.customStatus !== undefined) rec.customStatus = JSON.stringify(state.customStatus);
    if (rec.status === 'Pending') rec.status = 'Running';
    const appended: HistoryEvent[] = [...input, ...plan.events];
    appended.push({ EventType: Ev.OrchestratorCompleted, EventId: -1, Timestamp: ts });
    let outcome = plan.outcome;
    const tooLarge = oversized(outcome, rec.customStatus);
    if (tooLarge) {
      outcome = { kind: 'failed', message: `Orchestrator function '${rec.name}' failed: ${tooLarge}` };
      if (rec.customStatus !== null && rec.customStatus.length > MAX_CUSTOM_STATUS_CHARS) {
        rec.customStatus = inst.rec.customStatus;
      }
    }
    let nextExec = false;
    if (outcome.kind === 'completed') {
      rec.status = 'Completed';
      rec.output = JSON.stringify(outcome.output ?? null);
      appended.push({
        EventType: Ev.ExecutionCompleted,
        EventId: -1,
        Timestamp: ts,
        OrchestrationStatus: 'Completed',
        Result: rec.output,
      });
    } else if (outcome.kind === 'failed') {
      rec.status = 'Failed';
      rec.output = JSON.stringify(outcome.message);
      rec.failureDetails = outcome.failureDetails ? JSON.stringify(outcome.failureDetails) : null;
      appended.push({
        EventType: Ev.ExecutionCompleted,
        EventId: -1,
        Timestamp: ts,
        OrchestrationStatus: 'Failed',
        Result: outcome.message,
      });
      this.ctx.log.warn(`durable: ${outcome.message} (instance '${inst.rec.id}')`);
    } else if (outcome.kind === 'continueAsNew') {
      appended.push({
        EventType: Ev.ExecutionCompleted,
        EventId: -1,
        Timestamp: ts,
        OrchestrationStatus: 'ContinuedAsNew',
        Result: outcome.input,
      });
      nextExec = true;
      rec.execSeq = inst.rec.execSeq + 1;
      rec.executionId = randomUUID().replace(/-/g, '');
      rec.input = outcome.input;
      rec.status = 'Running';
    }
    const execSeq = inst.rec.execSeq;
    const episode = inst.episode++;
    for (const ev of appended) inst.history.push(ev);
    const writeInstance =
      inst.onCreated !== undefined ||
      (rec.status !== inst.rec.status && !(inst.rec.status === 'Pending' && rec.status === 'Running')) ||
      rec.customStatus !== inst.rec.customStatus ||
      rec.execSeq !== inst.rec.execSeq;
    inst.rec = rec;
    const item: OutboxItem = {
      execSeq,
      episode,
      record: { e: appended, l: plan.newLeaves, w: watermark },
      snapshot: rec,
      writeInstance,
      history: inst.history,
      historyLength: inst.history.length,
    };
    if (outcome.kind === 'continue') {
      // Work goes out before the commit: after a crash the replay schedules it again (at-least-once),
      // and a completion that arrives early simply waits for the next episode.
      for (const w of plan.work) {
        if (this.draining) break; // recorded in history: dispatched after the next start
        if (w.kind === 'activity') this.runActivity(inst, w, execSeq);
        else if (w.kind === 'timer') this.armTimer(inst, w.id, w.fireAt);
        else if (w.kind === 'sub') this.startChild(inst, w);
      }
    } else if (nextExec) {
      for (const t of inst.timers.values()) t.cancel();
      inst.timers.clear();
      inst.history = [];
      inst.replay = [];
      this.pool?.forget(rec.id);
      inst.exec = newExecState();
      inst.episode = 0;
      // Keep external events raised meanwhile for the new execution; completions belong to the old one.
      inst.pending = inst.pending.filter(
        (m) => m.kind === 'control' || (m.kind === 'event' && m.ev.EventType === Ev.EventRaised),
      );
      inst.pending.unshift({ kind: 'start' });
      item.after = () => this.background(this.store.purgeOlder(rec.id, rec.execSeq));
    } else {
      item.after = () => this.finished(inst);
    }
    // Entity requests are saved at their entities before the episode that sends them commits: once
    // the history says "sent", the request exists (entities.ts recognises one sent again after a crash).
    const sends = plan.work.filter((w): w is Extract<Work, { kind: 'entity' }> => w.kind === 'entity');
    if (sends.length) await Promise.all(sends.map((w) => this.entities.enqueue(w.target, w.request)));
    this.afterCreation(inst, item);
    this.enqueueCommit(inst, item);
  }

  /** The first commit of a new instance also acknowledges its start. */
  private afterCreation(inst: Instance, item: OutboxItem): void {
    const created = inst.onCreated;
    if (!created) return;
    inst.onCreated = undefined;
    item.writeInstance = true;
    const next = item.after;
    item.after = () => {
      created();
      next?.();
    };
  }

  /** Queues an episode for commit; one writer per instance coalesces queued episodes into one request. */
  private enqueueCommit(inst: Instance, item: OutboxItem): void {
    inst.outbox.push(item);
    if (!inst.writing) {
      inst.writing = true;
      this.track(this.flush(inst)).catch((err) => {
        if (!this.stopping) void this.commitRejected(inst, err);
      });
    }
  }

  /**
   * Storage refused a commit outright (not an outage): the history cannot be saved, so the instance
   * cannot go on. Record it as Failed with the reason rather than leave it silently stuck.
   */
  private async commitRejected(inst: Instance, err: any): Promise<void> {
    const reason = String(err?.message ?? err).slice(0, 2000);
    this.ctx.log.error(`durable: storage refused the history of '${inst.rec.id}': ${reason}`);
    const rec: InstanceRecord = {
      ...inst.committed,
      status: 'Failed',
      output: JSON.stringify(
        `Orchestrator function '${inst.rec.name}' failed: the local host could not save its history ` +
          `(storage answered: ${reason}).`,
      ),
      updatedMs: this.clock.now(),
    };
    inst.outbox = [];
    inst.rec = rec;
    inst.committed = rec;
    try {
      await this.store.write('record failure', [instanceEntity(rec)]);
    } catch (e: any) {
      this.ctx.log.error(`durable: could not record the failure of '${rec.id}' either: ${e?.message ?? e}`);
    }
    for (const w of inst.drained.splice(0)) w();
    this.finished(inst);
  }

  private async flush(inst: Instance): Promise<void> {
    try {
      while (inst.outbox.length) {
        let items = inst.outbox.slice(0, MAX_AHEAD);
        let rows = commitEntities(
          inst.rec.id,
          items.map((i) => ({ execSeq: i.execSeq, episode: i.episode, record: i.record })),
        );
        // A Table transaction carries at most 4 MiB: commit fewer episodes at once when they are large.
        while (items.length > 1 && rowsSize(rows) > MAX_COMMIT_CHARS) {
          items = items.slice(0, Math.ceil(items.length / 2));
          rows = commitEntities(
            inst.rec.id,
            items.map((i) => ({ execSeq: i.execSeq, episode: i.episode, record: i.record })),
          );
        }
        let last: OutboxItem | undefined;
        for (const i of items) if (i.writeInstance) last = i;
        if (last) rows.push(instanceEntity(items[items.length - 1]!.snapshot));
        await this.store.write('commit episodes', rows);
        this.stats.commits++;
        inst.outbox.splice(0, items.length);
        const lastItem = items[items.length - 1]!;
        inst.committed = lastItem.snapshot;
        inst.committedHistory = { events: lastItem.history, length: lastItem.historyLength };
        for (const w of inst.drained.splice(0)) w();
        const consumed = items.flatMap((i) =>
          i.record.w ? inst.consumed.filter((k) => k <= i.record.w!) : [],
        );
        if (consumed.length) {
          const set = new Set(consumed);
          inst.consumed = inst.consumed.filter((k) => !set.has(k));
          this.background(this.store.deleteRows(inst.rec.id, [...set]));
        }
        for (const i of items) i.after?.();
      }
    } finally {
      inst.writing = false;
    }
  }

  private executionStarted(inst: Instance): HistoryEvent {
    const r = inst.rec;
    return {
      EventType: Ev.ExecutionStarted,
      EventId: -1,
      Timestamp: new Date(Math.max(this.clock.now(), inst.lastMs)).toISOString(),
      Name: r.name,
      Version: r.version ?? '',
      Input: r.input,
      OrchestrationInstance: { InstanceId: r.id, ExecutionId: r.executionId },
      ParentInstance: r.parentId ? { InstanceId: r.parentId, TaskScheduledId: r.parentTaskId ?? -1 } : null,
    };
  }

  private applyControl(inst: Instance, m: Extract<Msg, { kind: 'control' }>): void {
    const now = Math.max(this.clock.now(), inst.lastMs);
    const ts = new Date(now).toISOString();
    const rec: InstanceRecord = { ...inst.rec, updatedMs: now };
    const events: HistoryEvent[] = [];
    if (m.op === 'terminate') {
      rec.status = 'Terminated';
      rec.output = JSON.stringify(m.reason);
      events.push({ EventType: Ev.ExecutionTerminated, EventId: -1, Timestamp: ts, Input: m.reason });
      events.push({
        EventType: Ev.ExecutionCompleted,
        EventId: -1,
        Timestamp: ts,
        OrchestrationStatus: 'Terminated',
        Result: m.reason,
      });
    } else if (m.op === 'suspend') {
      if (rec.status === 'Suspended') return this.consumeOnly(inst, m);
      rec.status = 'Suspended';
      events.push({ EventType: Ev.ExecutionSuspended, EventId: -1, Timestamp: ts, Reason: m.reason });
    } else {
      if (rec.status !== 'Suspended') return this.consumeOnly(inst, m);
      rec.status = inst.episode > 0 ? 'Running' : 'Pending';
      events.push({ EventType: Ev.ExecutionResumed, EventId: -1, Timestamp: ts, Reason: m.reason });
    }
    const episode = inst.episode++;
    inst.history.push(...events);
    inst.rec = rec;
    if (m.key) inst.consumed.push(m.key);
    const item: OutboxItem = {
      execSeq: rec.execSeq,
      episode,
      record: { e: events, l: [], w: m.key },
      snapshot: rec,
      writeInstance: true,
      history: inst.history,
      historyLength: inst.history.length,
      after: rec.status === 'Terminated' ? () => this.finished(inst) : undefined,
    };
    this.afterCreation(inst, item);
    this.enqueueCommit(inst, item);
  }

  private consumeOnly(inst: Instance, m: { key?: string }): void {
    if (m.key) this.background(this.store.deleteRows(inst.rec.id, [m.key]));
  }

  private finished(inst: Instance): void {
    for (const t of inst.timers.values()) t.cancel();
    inst.timers.clear();
    const pendingKeys = inst.pending.flatMap((m) => (m.kind !== 'start' && m.key ? [m.key] : []));
    if (pendingKeys.length) this.background(this.store.deleteRows(inst.rec.id, pendingKeys));
    inst.pending = [];
    // Finished instances keep only their summary in memory; history is read from storage on demand.
    inst.loaded = false;
    inst.history = [];
    inst.replay = [];
    this.pool?.forget(inst.rec.id);
    inst.exec = newExecState();
    for (const w of inst.waiters.splice(0)) w();
    if (inst.rec.parentId) this.notifyParent(inst);
    this.entities.instanceEnded(inst.rec.id);
  }

  // ---------------------------------------------------------------- work

  private runActivity(inst: Instance, w: Extract<Work, { kind: 'activity' }>, execSeq: number): void {
    const run = async (): Promise<void> => {
      await this.activitySlots.acquire();
      let ev: HistoryEvent;
      this.activitiesRunning++;
      try {
        if (this.draining) return;
        const fn = this.ctx.functions.get(w.name);
        if (w.name === HTTP_ACTIVITY) {
          ev = await this.httpCall(w);
        } else if (!fn || fn.trigger.type !== 'activityTrigger') {
          ev = failedEvent(
            Ev.TaskFailed,
            w.id,
            `The activity function '${w.name}' doesn't exist, is disabled, or is not an activity function. ` +
              `Register it with df.app.activity('${w.name}', { handler }).`,
            '',
            this.clock.now(),
          );
        } else {
          try {
            const res = await this.ctx.invoke(w.name, w.input === null ? undefined : tryJsonParse(w.input));
            ev = {
              EventType: Ev.TaskCompleted,
              EventId: -1,
              Timestamp: new Date(this.clock.now()).toISOString(),
              TaskScheduledId: w.id,
              Result: JSON.stringify(res.returnValue ?? null),
            };
          } catch (err: any) {
            if (this.stopping) return;
            ev = activityFailure(w.name, w.id, err, this.clock.now());
          }
        }
      } finally {
        this.activitiesRunning--;
        this.activitySlots.release();
      }
      if (inst.rec.execSeq !== execSeq) return;
      this.deliver(inst, { kind: 'event', ev });
    };
    this.track(run()).catch((err) =>
      this.ctx.log.error(`durable: activity '${w.name}' dispatch failed: ${err}`),
    );
  }

  /** A callHttp request (the extension's built-in HTTP activity). */
  private async httpCall(w: Extract<Work, { kind: 'activity' }>): Promise<HistoryEvent> {
    try {
      const result = await performDurableHttp(w.input);
      return {
        EventType: Ev.TaskCompleted,
        EventId: -1,
        Timestamp: new Date(this.clock.now()).toISOString(),
        TaskScheduledId: w.id,
        Result: result,
      };
    } catch (err: any) {
      return activityFailure(w.name, w.id, err, this.clock.now());
    }
  }

  private armTimer(inst: Instance, id: number, fireAt: string): void {
    if (this.draining) return; // re-armed from history after the next start
    const at = Date.parse(fireAt);
    const execSeq = inst.rec.execSeq;
    const fire = (): void => {
      inst.timers.delete(id);
      if (inst.rec.execSeq !== execSeq) return;
      // System timers cap at ~24.8 days and fire early for longer ones: wait again.
      if (this.clock.now() < at) {
        inst.timers.set(id, this.clock.setTimeout(fire, at - this.clock.now()));
        return;
      }
      this.deliver(inst, {
        kind: 'event',
        ev: {
          EventType: Ev.TimerFired,
          EventId: -1,
          Timestamp: new Date(Math.max(this.clock.now(), at)).toISOString(),
          TimerId: id,
          FireAt: fireAt,
        },
      });
    };
    inst.timers.get(id)?.cancel();
    inst.timers.set(id, this.clock.setTimeout(fire, at - this.clock.now()));
  }

  private startChild(parent: Instance, w: Extract<Work, { kind: 'sub' }>): void {
    if (this.draining) return; // started (or found) from history after the next start
    const fail = (reason: string): void =>
      this.deliver(parent, {
        kind: 'event',
        ev: failedEvent(Ev.SubOrchestrationInstanceFailed, w.id, reason, '', this.clock.now()),
      });
    const existing = this.instances.get(w.instanceId);
    if (existing && isTerminal(existing.rec.status as RuntimeStatus) && existing.outbox.length > 0) {
      void this.settle(existing).then(() => this.startChild(parent, w));
      return;
    }
    if (existing && !isTerminal(existing.rec.status as RuntimeStatus)) {
      if (existing.rec.parentId === parent.rec.id && existing.rec.parentTaskId === w.id) return;
      fail(
        `An orchestration instance with ID '${w.instanceId}' already exists and is ${existing.rec.status}; a sub-orchestration cannot reuse it.`,
      );
      return;
    }
    if (!this.isOrchestrator(w.name)) {
      fail(
        `The orchestrator function '${w.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
      return;
    }
    this.track(
      this.createInstance(w.name, w.instanceId, w.input, w.version ?? null, {
        id: parent.rec.id,
        taskId: w.id,
        execSeq: parent.rec.execSeq,
      }),
    ).catch((err) => fail(`The sub-orchestration could not be started: ${err?.message ?? err}`));
  }

  private notifyParent(child: Instance): void {
    const c = child.rec;
    const parent = c.parentId ? this.instances.get(c.parentId) : undefined;
    if (!parent || c.parentTaskId === null || parent.rec.execSeq !== c.parentExecSeq) return;
    const now = this.clock.now();
    let ev: HistoryEvent;
    if (c.status === 'Completed') {
      ev = {
        EventType: Ev.SubOrchestrationInstanceCompleted,
        EventId: -1,
        Timestamp: new Date(now).toISOString(),
        TaskScheduledId: c.parentTaskId,
        Result: c.output ?? 'null',
      };
    } else {
      const out = parseJsonText(c.output);
      const reason =
        c.status === 'Failed'
          ? String(out ?? `Orchestrator function '${c.name}' failed.`)
          : `The sub-orchestration '${c.name}' (instance '${c.id}') was ${c.status.toLowerCase()}: ${String(out ?? '')}`;
      ev = failedEvent(
        Ev.SubOrchestrationInstanceFailed,
        c.parentTaskId,
        reason,
        c.failureDetails ?? '',
        now,
      );
    }
    this.deliver(parent, { kind: 'event', ev });
  }
}

// -------------------------------------------------------------------- helpers

export function tableNameFor(hub: string): string {
  const clean = hub.replace(/[^A-Za-z0-9]/g, '');
  const name = `${/^[A-Za-z]/.test(clean) ? clean : `H${clean}`}Sluice`;
  return name.slice(0, 63);
}

function newInstance(rec: InstanceRecord, loaded: boolean): Instance {
  return {
    rec,
    loaded,
    history: [],
    replay: [],
    exec: newExecState(),
    episode: 0,
    pending: [],
    running: false,
    lastMs: 0,
    timers: new Map(),
    waiters: [],
    consumed: [],
    outbox: [],
    writing: false,
    drained: [],
    committed: rec,
    committedHistory: { events: [], length: 0 },
  };
}

function messageFromInbox(msg: InboxMessage, key: string): Msg {
  if (msg.k === 'event') {
    return {
      kind: 'event',
      key,
      ev: {
        EventType: Ev.EventRaised,
        EventId: -1,
        Timestamp: new Date(msg.at).toISOString(),
        Name: msg.name,
        Input: msg.input ?? null,
      },
    };
  }
  return { kind: 'control', op: msg.k, reason: msg.reason ?? '', key };
}

/** The fields durable-functions reads, nothing else: replay cost is per event and per byte. */
function replayEvent(ev: HistoryEvent): any | undefined {
  switch (ev.EventType) {
    case Ev.OrchestratorStarted:
      return { EventType: ev.EventType, Timestamp: new Date(ev.Timestamp), IsPlayed: false };
    case Ev.ExecutionStarted:
      return { EventType: ev.EventType, Version: ev.Version ?? '', IsPlayed: false };
    case Ev.TaskCompleted:
    case Ev.SubOrchestrationInstanceCompleted:
      return {
        EventType: ev.EventType,
        TaskScheduledId: ev.TaskScheduledId,
        Result: ev.Result,
        IsPlayed: false,
      };
    case Ev.TaskFailed:
    case Ev.SubOrchestrationInstanceFailed: {
      const r: any = { EventType: ev.EventType, TaskScheduledId: ev.TaskScheduledId, IsPlayed: false };
      if (ev.FailureDetails) r.FailureDetails = ev.FailureDetails;
      else {
        r.Reason = ev.Reason ?? '';
        r.Details = ev.Details ?? '';
      }
      return r;
    }
    case Ev.TimerFired:
      return { EventType: ev.EventType, TimerId: ev.TimerId, FireAt: ev.FireAt, IsPlayed: false };
    case Ev.EventRaised:
      return { EventType: ev.EventType, Name: ev.Name, Input: ev.Input ?? null, IsPlayed: false };
    case Ev.EventSent:
      // Re-keys an entity call or lock from its event id to its request id.
      return { EventType: ev.EventType, EventId: ev.EventId, Input: ev.Input ?? null, IsPlayed: false };
    default:
      return undefined;
  }
}

function failedEvent(type: number, id: number, reason: string, details: string, now: number): HistoryEvent {
  return {
    EventType: type,
    EventId: -1,
    Timestamp: new Date(now).toISOString(),
    TaskScheduledId: id,
    Reason: reason,
    Details: details,
  };
}

/**
 * An activity error as the extension reports it: FailureDetails when the app registered an exception
 * properties provider (durable-functions then puts JSON in the message), else Reason/Details strings.
 */
export function activityFailure(name: string, id: number, err: any, now: number): HistoryEvent {
  const message = String(err?.message ?? err);
  if (message.startsWith('{')) {
    const p = tryJsonParse(message) as any;
    if (p && typeof p === 'object' && typeof p.errorType === 'string' && typeof p.errorMessage === 'string') {
      return {
        EventType: Ev.TaskFailed,
        EventId: -1,
        Timestamp: new Date(now).toISOString(),
        TaskScheduledId: id,
        FailureDetails: {
          ErrorType: p.errorType,
          ErrorMessage: p.errorMessage,
          StackTrace: typeof p.stackTrace === 'string' ? p.stackTrace : undefined,
          IsNonRetriable: false,
          Properties: p.properties ?? null,
          InnerFailure: null,
        },
      };
    }
  }
  const details = JSON.stringify({ name: err?.name ?? 'Error', message, stack: err?.stack ?? '' });
  return failedEvent(Ev.TaskFailed, id, `Activity function '${name}' failed: ${message}`, details, now);
}
