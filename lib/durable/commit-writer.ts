/**
 * The commit writer: one per instance at a time, it writes the episodes queued in the instance's outbox
 * to storage, as many as fit in one Table transaction per request (group commit).
 *
 * Invariants: episodes commit in order; `committed` and `committedHistory` move only after a write
 * succeeded; an episode's `after` (finishing, parent notification, cleanup of older executions) runs
 * only once its commit is durable; inbox rows consumed by committed episodes are deleted afterwards.
 * The instance row is written with a run of episodes when any of them changed it. Storage outages are
 * retried by the store; a commit storage refuses outright fails the instance (`commitRejected`).
 */
import { commitEntities, instanceEntity, type InstanceRecord } from './store';
import type { Instance, OutboxItem } from './instance';
import { MAX_AHEAD, MAX_COMMIT_CHARS } from './limits';
import type { EngineRuntime } from './runtime';

function rowsSize(rows: Array<Record<string, unknown>>): number {
  let n = 0;
  for (const r of rows) for (const v of Object.values(r)) if (typeof v === 'string') n += v.length;
  return n;
}

export class CommitWriter {
  constructor(
    private readonly rt: EngineRuntime,
    /** Ends a finished instance (instance-actor.ts). */
    private readonly finished: (inst: Instance) => void,
  ) {}

  /** The first commit of a new instance also acknowledges its start. */
  afterCreation(inst: Instance, item: OutboxItem): void {
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
  enqueue(inst: Instance, item: OutboxItem): void {
    inst.outbox.push(item);
    if (!inst.writing) {
      inst.writing = true;
      this.rt.track(this.flush(inst)).catch((err) => {
        if (!this.rt.stopping) void this.commitRejected(inst, err);
      });
    }
  }

  /**
   * Storage refused a commit outright (not an outage): the history cannot be saved, so the instance
   * cannot go on. Record it as Failed with the reason rather than leave it silently stuck.
   */
  private async commitRejected(inst: Instance, err: any): Promise<void> {
    const { ctx, store, clock } = this.rt;
    const reason = String(err?.message ?? err).slice(0, 2000);
    ctx.log.error(`durable: storage refused the history of '${inst.rec.id}': ${reason}`);
    const rec: InstanceRecord = {
      ...inst.committed,
      status: 'Failed',
      output: JSON.stringify(
        `Orchestrator function '${inst.rec.name}' failed: the local host could not save its history ` +
          `(storage answered: ${reason}).`,
      ),
      updatedMs: clock.now(),
    };
    inst.outbox = [];
    inst.rec = rec;
    inst.committed = rec;
    try {
      await store.write('record failure', [instanceEntity(rec)]);
    } catch (e: any) {
      ctx.log.error(`durable: could not record the failure of '${rec.id}' either: ${e?.message ?? e}`);
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
        await this.rt.store.write('commit episodes', rows);
        this.rt.stats.commits++;
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
          this.rt.background(this.rt.store.deleteRows(inst.rec.id, [...set]));
        }
        for (const i of items) i.after?.();
      }
    } finally {
      inst.writing = false;
    }
  }
}
