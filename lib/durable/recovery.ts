/**
 * Recovery at start: every instance row is read; unfinished instances load their current execution's
 * history and rebuild their state from it (`applyEvent`, as live episodes do), and the work that was
 * pending when the process stopped is derived from it. No queue is needed.
 *
 * Scheduled-but-not-completed activities run again, timers are re-armed (one that fell due meanwhile
 * fires at once), children are checked (started if missing, their result delivered if they finished),
 * unconsumed inbox rows are queued (rows at or below the instance's `InboxFloor` are stale and deleted).
 * An instance with no history yet gets its start again.
 */
import { isTerminal, type HistoryEvent, type RuntimeStatus } from './history';
import { applyEvent, newExecState, type OpenOp } from './exec-state';
import type { ActivityRunner } from './activities';
import { messageFromInbox, newInstance, type Instance } from './instance';
import { replayEvent } from './replay';
import type { EngineRuntime } from './runtime';
import type { DurableTimers } from './timers';

export interface RecoveryDeps {
  activities: Pick<ActivityRunner, 'run'>;
  timers: Pick<DurableTimers, 'arm'>;
  /** Starts a missing child, or delivers a finished one's result (sub-orchestrations.ts). */
  recoverChild(parent: Instance, op: OpenOp): void;
  /** Starts the instance's drain loop (instance-actor.ts). */
  kick(inst: Instance): void;
}

/** Loads every stored instance and entity, marks the engine started and resumes pending work. */
export async function recover(rt: EngineRuntime, deps: RecoveryDeps): Promise<void> {
  await rt.store.init();
  const recs = await rt.store.loadInstances();
  await rt.entities.load();
  const live: Instance[] = [];
  for (const rec of recs) {
    const inst = newInstance(rec, false);
    rt.instances.set(rec.id, inst);
    if (!isTerminal(rec.status as RuntimeStatus)) live.push(inst);
  }
  // Load histories a few at a time: enough to hide storage latency, few enough not to flood it.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < live.length) await loadLive(rt, live[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(8, live.length) }, worker));
  rt.started = true;
  if (live.length) rt.ctx.log.info(`durable: resumed ${live.length} unfinished instance(s)`);
  for (const inst of live) resumeWork(inst, deps);
  rt.entities.resume();
}

/** Reads an unfinished instance's current execution from storage and rebuilds its state. */
async function loadLive(rt: EngineRuntime, inst: Instance): Promise<void> {
  const part = await rt.store.loadPartition(inst.rec.id, inst.rec.execSeq);
  rebuild(inst, part.episodes);
  const floor = inst.rec.inboxFloor ?? '';
  for (const { key, msg } of part.inbox) {
    if (key <= floor) {
      part.staleKeys.push(key);
      continue;
    }
    inst.pending.push(messageFromInbox(msg, key));
  }
  if (part.staleKeys.length) rt.background(rt.store.deleteRows(inst.rec.id, part.staleKeys));
}

function rebuild(inst: Instance, episodes: Array<{ e: HistoryEvent[]; l: any[] }>): void {
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
function resumeWork(inst: Instance, deps: RecoveryDeps): void {
  if (inst.history.length === 0 && !inst.pending.some((m) => m.kind === 'start')) {
    inst.pending.unshift({ kind: 'start' });
  }
  const execSeq = inst.rec.execSeq;
  for (const op of inst.exec.open.values()) {
    if (op.kind === 'activity')
      deps.activities.run(
        inst,
        { kind: 'activity', id: op.id, name: op.name!, input: op.input ?? null },
        execSeq,
      );
    else if (op.kind === 'timer') deps.timers.arm(inst, op.id, op.fireAt!);
    else deps.recoverChild(inst, op);
  }
  deps.kick(inst);
}
