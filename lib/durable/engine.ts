/**
 * The durable engine: an in-memory, authoritative cache of instances with write-through commits, as a
 * façade over its parts. This file holds the client operations (start, raise event, terminate, suspend,
 * resume, purge, status reads) and the lifecycle (start, graceful stop), and wires the parts together:
 *
 * - instance-actor.ts: each instance is an actor, one drain loop runs its episodes one at a time;
 * - episode-runner.ts: replay the orchestrator, plan the result (episode.ts), dispatch the work;
 * - commit-writer.ts: commit queued episodes as one Table transaction per request (group commit);
 * - activities.ts, timers.ts, sub-orchestrations.ts: the work an episode plans;
 * - recovery.ts: at start, rebuild unfinished instances from history and redo their pending work.
 *
 * Activities are dispatched as soon as they are planned (before the commit): should the process die
 * first, the replay after restart schedules them again, which is the at-least-once contract.
 * Completions live in memory until the next episode commits them; pending work is recovered from the
 * history on start (scheduled but not completed = to do), so the hot path has no queue round trips.
 * Clients see only committed state (`Instance.committed`).
 */
import { randomUUID } from 'node:crypto';
import type { HostContext } from '../host/types';
import { getClock } from '../host/clock';
import { isTerminal, type HistoryEvent, type RuntimeStatus } from './history';
import { DurableStore, newInboxKey, type InboxMessage, type InstanceRecord } from './store';
import { EpisodePool } from './episode-pool';
import { DurableError } from './errors';
import { EntityHost } from './entities';
import { ActivityRunner } from './activities';
import { CommitWriter } from './commit-writer';
import { EpisodeRunner } from './episode-runner';
import { messageFromInbox, newInstance, type Instance, type Msg } from './instance';
import { InstanceActor } from './instance-actor';
import { MAX_VALUE_CHARS } from './limits';
import { recover } from './recovery';
import { BINDING_CONSTANTS } from './replay';
import type { EngineRuntime, EngineStats } from './runtime';
import { SubOrchestrations } from './sub-orchestrations';
import { DurableTimers } from './timers';

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

export class DurableEngine {
  readonly instances = new Map<string, Instance>();
  readonly store: DurableStore;
  /** Durable entities (their queues, state and locks). */
  readonly entities: EntityHost;
  /** Counters for benchmarks: orchestrator invocations, events they replayed, time spent in them. */
  readonly stats: EngineStats = { episodes: 0, replayedEvents: 0, orchestratorMs: 0, commits: 0 };
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly clock = getClock();
  private readonly rt: EngineRuntime;
  private readonly actor: InstanceActor;
  private readonly activities: ActivityRunner;
  private readonly timers: DurableTimers;
  private readonly children: SubOrchestrations;

  constructor(
    private readonly ctx: HostContext,
    readonly opts: EngineOptions,
  ) {
    this.store = new DurableStore({
      connectionString: ctx.storageConnectionString,
      tableName: tableNameFor(opts.hubName),
      log: ctx.log,
      stopped: () => this.rt.stopping,
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
        const pool = this.rt.pool;
        if (!pool) return (await this.ctx.invoke(name, value)).returnValue;
        const out = await pool.run({
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
      stopping: () => this.rt.stopping,
    });
    this.rt = {
      ctx,
      store: this.store,
      instances: this.instances,
      clock: this.clock,
      entities: this.entities,
      stats: this.stats,
      pool: undefined,
      started: false,
      draining: false,
      stopping: false,
      track: (p) => this.track(p),
      background: (p) => this.background(p),
    };
    // The parts reach each other only through these closures and narrow interfaces (their imports of
    // one another are type-only), so they can be built in any order and tested apart.
    const deliver = (inst: Instance, msg: Msg): void => this.actor.deliver(inst, msg);
    const finished = (inst: Instance): void => this.actor.finished(inst);
    this.timers = new DurableTimers(this.rt, deliver);
    this.activities = new ActivityRunner(this.rt, opts.maxActivities, deliver);
    this.children = new SubOrchestrations(this.rt, {
      deliver,
      settle: (inst) => this.settle(inst),
      createInstance: (...args) => this.createInstance(...args),
      isOrchestrator: (name) => this.isOrchestrator(name),
    });
    const commits = new CommitWriter(this.rt, finished);
    const episodes = new EpisodeRunner(this.rt, opts.maxOrchestrators, {
      activities: this.activities,
      timers: this.timers,
      children: this.children,
      commits,
      finished,
    });
    this.actor = new InstanceActor(this.rt, {
      runEpisode: (inst) => episodes.run(inst),
      commits,
      cancelTimers: (inst) => this.timers.cancelAll(inst),
      notifyParent: (child) => this.children.notifyParent(child),
    });
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    const hasOrchestrators = [...this.ctx.functions.values()].some((f) =>
      ['orchestrationtrigger', 'entitytrigger'].includes(f.trigger.type.toLowerCase()),
    );
    if (this.opts.episodeTimeoutMs > 0 && hasOrchestrators) {
      // Workers load the app while storage starts; episodes wait for them.
      this.rt.pool = new EpisodePool({
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
      await recover(this.rt, {
        activities: this.activities,
        timers: this.timers,
        recoverChild: (parent, op) => this.children.recover(parent, op),
        kick: (inst) => this.actor.kick(inst),
      });
    } catch (e) {
      await this.rt.pool?.stop();
      throw e;
    }
  }

  /**
   * Graceful stop: dispatch no new work, let running activities finish and commit their results
   * (bounded by `drainMs`), then stop. Work scheduled but not started stays in history and runs after the
   * next start; timers are re-armed from history then.
   */
  async stop(drainMs = 10_000): Promise<void> {
    this.rt.draining = true;
    for (const inst of this.instances.values()) this.timers.cancelAll(inst);
    const drainUntil = Date.now() + drainMs;
    while (Date.now() < drainUntil && this.busy()) {
      // An episode stuck in its worker would hold the stop until its limit: give up on it after a
      // moment (its events are not committed, so the next start replays them).
      if (this.activities.running === 0 && (this.rt.pool?.runningLongerThan(2000) ?? false)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.rt.stopping = true;
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
    await this.rt.pool?.stop();
  }

  /** Activities running, episodes running, or commits pending. */
  private busy(): boolean {
    if (this.activities.running > 0 || this.entities.busy()) return true;
    for (const inst of this.instances.values())
      if (inst.running || inst.writing || inst.outbox.length) return true;
    return false;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => {});
    return p;
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
    this.actor.kick(inst);
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
    this.actor.deliver(inst, messageFromInbox(msg, key));
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
}

export function tableNameFor(hub: string): string {
  const clean = hub.replace(/[^A-Za-z0-9]/g, '');
  const name = `${/^[A-Za-z]/.test(clean) ? clean : `H${clean}`}Sluice`;
  return name.slice(0, 63);
}
