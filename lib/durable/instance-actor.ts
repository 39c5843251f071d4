/**
 * Instances as actors: each instance's messages queue in `pending`, and one drain loop per instance
 * takes them in order, so one instance never runs two episodes at once.
 *
 * Terminate and suspend go before queued work; a suspended instance takes only control messages. A
 * control message is an episode of its own (its history events and the instance row, committed like
 * any other). The loop waits while the instance is `MAX_AHEAD` episodes ahead of storage. Messages for
 * a finished, purged or replaced instance are dropped (their inbox rows deleted). `finished` runs once an
 * instance's final commit is durable: it unloads the history and tells waiters, parent and entities.
 */
import { Ev, isTerminal, type HistoryEvent, type RuntimeStatus } from './history';
import { newExecState } from './exec-state';
import type { CommitWriter } from './commit-writer';
import type { Instance, Msg, OutboxItem } from './instance';
import { MAX_AHEAD } from './limits';
import type { EngineRuntime } from './runtime';
import type { InstanceRecord } from './store';

type Control = Extract<Msg, { kind: 'control' }>;

export interface InstanceActorDeps {
  /** Runs the instance's next episode (episode-runner.ts). */
  runEpisode(inst: Instance): Promise<void>;
  commits: Pick<CommitWriter, 'afterCreation' | 'enqueue'>;
  cancelTimers(inst: Instance): void;
  /** Delivers a finished child's result to its parent (sub-orchestrations.ts). */
  notifyParent(child: Instance): void;
}

export class InstanceActor {
  constructor(
    private readonly rt: EngineRuntime,
    private readonly deps: InstanceActorDeps,
  ) {}

  deliver(inst: Instance, msg: Msg): void {
    if (this.rt.instances.get(inst.rec.id) !== inst) return; // purged or replaced
    if (isTerminal(inst.rec.status as RuntimeStatus)) {
      if (msg.kind !== 'start' && msg.key)
        this.rt.background(this.rt.store.deleteRows(inst.rec.id, [msg.key]));
      return;
    }
    // Terminate and suspend take effect before queued work.
    if (msg.kind === 'control' && msg.op !== 'resume') inst.pending.unshift(msg);
    else inst.pending.push(msg);
    this.kick(inst);
  }

  kick(inst: Instance): void {
    if (inst.running || !this.rt.started || this.rt.stopping) return;
    inst.running = true;
    this.rt.track(this.drain(inst));
  }

  private async drain(inst: Instance): Promise<void> {
    const rt = this.rt;
    try {
      while (!rt.stopping && rt.instances.get(inst.rec.id) === inst) {
        const status = inst.rec.status as RuntimeStatus;
        if (isTerminal(status) || inst.pending.length === 0) break;
        const ci = inst.pending.findIndex((m) => m.kind === 'control');
        if (status === 'Suspended' && ci < 0) break;
        if (ci === 0 || status === 'Suspended') {
          const m = inst.pending.splice(ci, 1)[0] as Control;
          this.applyControl(inst, m);
          continue;
        }
        if (inst.outbox.length >= MAX_AHEAD) {
          await new Promise<void>((r) => inst.drained.push(r));
          continue;
        }
        await this.deps.runEpisode(inst);
      }
    } catch (err: any) {
      if (!rt.stopping) {
        rt.ctx.log.error(
          `durable: instance '${inst.rec.id}' stopped on an internal error: ${err?.stack ?? err}`,
        );
      }
    } finally {
      inst.running = false;
    }
    if (!rt.stopping && inst.pending.length && rt.instances.get(inst.rec.id) === inst) {
      const s = inst.rec.status as RuntimeStatus;
      if (!isTerminal(s) && (s !== 'Suspended' || inst.pending.some((m) => m.kind === 'control')))
        this.kick(inst);
    }
  }

  private applyControl(inst: Instance, m: Control): void {
    const now = Math.max(this.rt.clock.now(), inst.lastMs);
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
    this.deps.commits.afterCreation(inst, item);
    this.deps.commits.enqueue(inst, item);
  }

  private consumeOnly(inst: Instance, m: { key?: string }): void {
    if (m.key) this.rt.background(this.rt.store.deleteRows(inst.rec.id, [m.key]));
  }

  /** Ends an instance whose final commit is durable. */
  finished(inst: Instance): void {
    this.deps.cancelTimers(inst);
    const pendingKeys = inst.pending.flatMap((m) => (m.kind !== 'start' && m.key ? [m.key] : []));
    if (pendingKeys.length) this.rt.background(this.rt.store.deleteRows(inst.rec.id, pendingKeys));
    inst.pending = [];
    // Finished instances keep only their summary in memory; history is read from storage on demand.
    inst.loaded = false;
    inst.history = [];
    inst.replay = [];
    this.rt.pool?.forget(inst.rec.id);
    inst.exec = newExecState();
    for (const w of inst.waiters.splice(0)) w();
    if (inst.rec.parentId) this.deps.notifyParent(inst);
    this.rt.entities.instanceEnded(inst.rec.id);
  }
}
