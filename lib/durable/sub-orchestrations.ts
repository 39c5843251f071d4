/**
 * Sub-orchestrations: starting a child instance for a parent's `CallSubOrchestrator` action, and
 * delivering the child's result to its parent when it finishes.
 *
 * A child belongs to the parent's task that started it (`parentId`, `parentTaskId`) and to the parent's
 * execution (`parentExecSeq`): a result for an older execution of the parent is dropped. An unfinished
 * instance that is not the child cannot be reused; a finished one is started afresh once its last
 * commit is written. While the engine drains for a stop, no child starts (recovery starts it, or finds
 * it, from history after the next start).
 */
import { Ev, isTerminal, parseJsonText, type HistoryEvent, type RuntimeStatus } from './history';
import type { Work } from './episode';
import type { OpenOp } from './exec-state';
import { failedEvent } from './failures';
import type { Deliver, Instance } from './instance';
import type { EngineRuntime } from './runtime';

export type SubOrchestrationWork = Extract<Work, { kind: 'sub' }>;

export interface SubOrchestrationDeps {
  deliver: Deliver;
  /** Waits until a finishing instance's last commit is written. */
  settle(inst: Instance): Promise<void>;
  /** Creates and starts an instance; resolves once its start is durable. */
  createInstance(
    name: string,
    id: string,
    input: string | null,
    version: string | null,
    parent: { id: string; taskId: number; execSeq: number } | null,
  ): Promise<Instance>;
  isOrchestrator(name: string): boolean;
}

export class SubOrchestrations {
  constructor(
    private readonly rt: EngineRuntime,
    private readonly deps: SubOrchestrationDeps,
  ) {}

  start(parent: Instance, w: SubOrchestrationWork): void {
    if (this.rt.draining) return; // started (or found) from history after the next start
    const fail = (reason: string): void =>
      this.deps.deliver(parent, {
        kind: 'event',
        ev: failedEvent(Ev.SubOrchestrationInstanceFailed, w.id, reason, '', this.rt.clock.now()),
      });
    const existing = this.rt.instances.get(w.instanceId);
    if (existing && isTerminal(existing.rec.status as RuntimeStatus) && existing.outbox.length > 0) {
      void this.deps.settle(existing).then(() => this.start(parent, w));
      return;
    }
    if (existing && !isTerminal(existing.rec.status as RuntimeStatus)) {
      if (existing.rec.parentId === parent.rec.id && existing.rec.parentTaskId === w.id) return;
      fail(
        `An orchestration instance with ID '${w.instanceId}' already exists and is ${existing.rec.status}; a sub-orchestration cannot reuse it.`,
      );
      return;
    }
    if (!this.deps.isOrchestrator(w.name)) {
      fail(
        `The orchestrator function '${w.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
      return;
    }
    this.rt
      .track(
        this.deps.createInstance(w.name, w.instanceId, w.input, w.version ?? null, {
          id: parent.rec.id,
          taskId: w.id,
          execSeq: parent.rec.execSeq,
        }),
      )
      .catch((err) => fail(`The sub-orchestration could not be started: ${err?.message ?? err}`));
  }

  /** After recovery: a child the parent still waits for is started if missing, or answers if finished. */
  recover(parent: Instance, op: OpenOp): void {
    const child = this.rt.instances.get(op.instanceId!);
    if (child && child.rec.parentId === parent.rec.id && child.rec.parentTaskId === op.id) {
      if (isTerminal(child.rec.status as RuntimeStatus)) this.notifyParent(child);
      return;
    }
    this.start(parent, {
      kind: 'sub',
      id: op.id,
      name: op.name!,
      instanceId: op.instanceId!,
      input: op.input ?? null,
      version: op.version,
    });
  }

  /** Delivers a finished child's result (or failure) to its parent. */
  notifyParent(child: Instance): void {
    const c = child.rec;
    const parent = c.parentId ? this.rt.instances.get(c.parentId) : undefined;
    if (!parent || c.parentTaskId === null || parent.rec.execSeq !== c.parentExecSeq) return;
    const now = this.rt.clock.now();
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
    this.deps.deliver(parent, { kind: 'event', ev });
  }
}
