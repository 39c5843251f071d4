/**
 * The episode runner: takes an instance's queued events up to and including the first saga trigger
 * (reference §3.4), replays the orchestrator with them (on an episode worker, or on the main thread when
 * episodes are unbounded), plans the result (episode.ts), dispatches the planned work and queues the
 * episode for commit.
 *
 * Invariants: at most `maxOrchestrators` orchestrator invocations run at once. `OrchestratorStarted`
 * is stamped with the clock, never earlier than the instance's last episode, nor earlier than a timer
 * it fires. Activities, timers and children go out before the commit (after a crash the replay
 * schedules them again, at-least-once); entity requests are saved at their entities before it. An
 * outcome too large to store fails the instance instead. While the engine drains, planned work stays
 * in history and is dispatched after the next start.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Ev, parseJsonText, type HistoryEvent } from './history';
import { planEpisode, type Work } from './episode';
import { applyEvent, completionId, isSagaTrigger, newExecState, type OpenOp } from './exec-state';
import type { ActivityRunner } from './activities';
import type { CommitWriter } from './commit-writer';
import type { Instance, OutboxItem } from './instance';
import { MAX_CUSTOM_STATUS_CHARS, oversized } from './limits';
import { BINDING_CONSTANTS, replayEvent } from './replay';
import type { EngineRuntime } from './runtime';
import { Semaphore } from './semaphore';
import type { InstanceRecord } from './store';
import type { SubOrchestrations } from './sub-orchestrations';
import type { DurableTimers } from './timers';

export interface EpisodeRunnerDeps {
  activities: Pick<ActivityRunner, 'run'>;
  timers: Pick<DurableTimers, 'arm' | 'cancelAll'>;
  children: Pick<SubOrchestrations, 'start'>;
  commits: Pick<CommitWriter, 'afterCreation' | 'enqueue'>;
  /** Ends a finished instance once its final commit is durable (instance-actor.ts). */
  finished(inst: Instance): void;
}

export class EpisodeRunner {
  private readonly slots: Semaphore;

  constructor(
    private readonly rt: EngineRuntime,
    maxOrchestrators: number,
    private readonly deps: EpisodeRunnerDeps,
  ) {
    this.slots = new Semaphore(maxOrchestrators);
  }

  async run(inst: Instance): Promise<void> {
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
      input: this.rt.pool ? undefined : parseJsonText(inst.rec.input),
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
    await this.slots.acquire();
    const t0 = performance.now();
    try {
      const res = this.rt.pool
        ? await this.inWorker(inst, wasReplaying)
        : await this.rt.ctx.invoke(inst.rec.name, binding);
      state = res.returnValue;
      if (!state || typeof state !== 'object' || !('isDone' in state)) {
        error = `the orchestrator did not return an orchestration state (is '${inst.rec.name}' registered with df.app.orchestration?)`;
      }
    } catch (err: any) {
      if (this.rt.stopping) throw err;
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
      this.slots.release();
      this.rt.stats.episodes++;
      this.rt.stats.replayedEvents += inst.replay.length;
      this.rt.stats.orchestratorMs += performance.now() - t0;
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
    const rec: InstanceRecord = { ...inst.rec, updatedMs: Math.max(nowMs, this.rt.clock.now()) };
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
      this.rt.ctx.log.warn(`durable: ${outcome.message} (instance '${inst.rec.id}')`);
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
        if (this.rt.draining) break; // recorded in history: dispatched after the next start
        if (w.kind === 'activity') this.deps.activities.run(inst, w, execSeq);
        else if (w.kind === 'timer') this.deps.timers.arm(inst, w.id, w.fireAt);
        else if (w.kind === 'sub') this.deps.children.start(inst, w);
      }
    } else if (nextExec) {
      this.deps.timers.cancelAll(inst);
      inst.history = [];
      inst.replay = [];
      this.rt.pool?.forget(rec.id);
      inst.exec = newExecState();
      inst.episode = 0;
      // Keep external events raised meanwhile for the new execution; completions belong to the old one.
      inst.pending = inst.pending.filter(
        (m) => m.kind === 'control' || (m.kind === 'event' && m.ev.EventType === Ev.EventRaised),
      );
      inst.pending.unshift({ kind: 'start' });
      item.after = () => this.rt.background(this.rt.store.purgeOlder(rec.id, rec.execSeq));
    } else {
      item.after = () => this.deps.finished(inst);
    }
    // Entity requests are saved at their entities before the episode that sends them commits: once
    // the history says "sent", the request exists (entities.ts recognises one sent again after a crash).
    const sends = plan.work.filter((w): w is Extract<Work, { kind: 'entity' }> => w.kind === 'entity');
    if (sends.length) await Promise.all(sends.map((w) => this.rt.entities.enqueue(w.target, w.request)));
    this.deps.commits.afterCreation(inst, item);
    this.deps.commits.enqueue(inst, item);
  }

  private episodeTime(batch: HistoryEvent[]): number {
    let t = this.rt.clock.now();
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
    const out = await this.rt.pool!.run({
      id: inst.rec.id,
      name: inst.rec.name,
      replay: inst.replay,
      input: () => parseJsonText(inst.rec.input),
      parentInstanceId: inst.rec.parentId ?? undefined,
      isReplaying,
    });
    if (this.rt.stopping) throw new Error('the host is stopping');
    if (out.error === undefined) return { returnValue: out.state };
    throw new Error(`${out.error}\n\n$OutOfProcData$:${JSON.stringify(out.state ?? { error: out.error })}`);
  }

  private executionStarted(inst: Instance): HistoryEvent {
    const r = inst.rec;
    return {
      EventType: Ev.ExecutionStarted,
      EventId: -1,
      Timestamp: new Date(Math.max(this.rt.clock.now(), inst.lastMs)).toISOString(),
      Name: r.name,
      Version: r.version ?? '',
      Input: r.input,
      OrchestrationInstance: { InstanceId: r.id, ExecutionId: r.executionId },
      ParentInstance: r.parentId ? { InstanceId: r.parentId, TaskScheduledId: r.parentTaskId ?? -1 } : null,
    };
  }
}
