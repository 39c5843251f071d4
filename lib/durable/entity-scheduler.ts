/**
 * The entity scheduler, pure: what one entity does next with the requests queued for it. No I/O, no
 * clock; entities.ts runs the batches and delivers what they send. The rules are the durable
 * extension's:
 *
 * - **Order.** Requests are processed in the order they arrived at the entity (one queue per entity),
 *   several at a time as one batch (one invocation of the entity function).
 * - **Critical sections.** A lock request (`lock()` in an orchestration) locks the entity for its
 *   orchestration; while locked, only that orchestration's requests run (its calls and its release),
 *   the others wait in order. An orchestration locks its entities one after the other in one global
 *   order (durable-functions sorts the lock set by entity id), forwarding the request to the next entity
 *   once one is locked, and is answered when the last one is. Since every section acquires in the same
 *   order and holds what it has while waiting for the next, no cycle of waits — no deadlock — can form.
 * - **Ended holders.** Requests of an orchestration that has finished are dropped, and its locks are
 *   released, so a failed or terminated section never leaves an entity locked.
 */

/** One message to an entity. */
export interface EntityRequest {
  /** Unique per request (durable-functions' guid, or derived from the sender's history). */
  id: string;
  kind: 'op' | 'lock' | 'release';
  /** Operation name (`op`). */
  op?: string;
  /** JSON text of the operation input. */
  input?: string | null;
  /** True for a signal (no answer). */
  signal?: boolean;
  /** The orchestration that sent it (calls, locks, releases). */
  parent?: string;
  /** Locks: the whole lock set (entity ids, sorted) and this entity's place in it. */
  lockSet?: string[];
  position?: number;
}

/** What the scheduler keeps for one entity. */
export interface EntitySchedule {
  /** Arrival order. */
  queue: EntityRequest[];
  /** The orchestration holding this entity's lock. */
  lockedBy?: string;
}

/** What to do next. */
export type Step =
  /** Run these operations as one batch (in this order). */
  | { kind: 'batch'; requests: EntityRequest[] }
  /** Lock the entity for `request.parent`; forward to the next entity of the set or answer. */
  | { kind: 'lock'; request: EntityRequest }
  /** The holder released the lock. */
  | { kind: 'release'; request: EntityRequest }
  /** Drop a request (its orchestration has finished). */
  | { kind: 'drop'; request: EntityRequest }
  | { kind: 'idle' };

export interface SchedulerOptions {
  /** Whether an orchestration is still running (requests of finished ones are dropped). */
  alive(instanceId: string): boolean;
  /** Largest batch. @default 100 */
  maxBatch?: number;
}

/**
 * The next step for an entity, without changing it. Apply the step with `applyStep` once it is done
 * (batches run the entity function in between).
 */
export function nextStep(s: EntitySchedule, opts: SchedulerOptions): Step {
  const maxBatch = opts.maxBatch ?? 100;
  if (s.lockedBy !== undefined && !opts.alive(s.lockedBy)) {
    // The holder ended without releasing: release for it.
    return {
      kind: 'release',
      request: { id: `auto-release:${s.lockedBy}`, kind: 'release', parent: s.lockedBy },
    };
  }
  const batch: EntityRequest[] = [];
  for (const r of s.queue) {
    const mine = s.lockedBy === undefined || r.parent === s.lockedBy;
    if (!mine) continue; // waits for the lock to go
    if (r.kind !== 'op' && r.parent !== undefined && !opts.alive(r.parent)) {
      if (batch.length) break;
      return { kind: 'drop', request: r };
    }
    if (r.kind === 'op' && r.parent !== undefined && !r.signal && !opts.alive(r.parent)) {
      if (batch.length) break;
      return { kind: 'drop', request: r };
    }
    if (r.kind === 'op') {
      batch.push(r);
      if (batch.length >= maxBatch) break;
      continue;
    }
    if (batch.length) break;
    if (r.kind === 'release') return { kind: 'release', request: r };
    // A lock request: only when unlocked (a holder never locks again: durable-functions forbids nesting).
    if (s.lockedBy === undefined) return { kind: 'lock', request: r };
    return { kind: 'drop', request: r };
  }
  return batch.length ? { kind: 'batch', requests: batch } : { kind: 'idle' };
}

/** Applies a finished step: removes its requests from the queue and updates the lock. */
export function applyStep(s: EntitySchedule, step: Step): void {
  switch (step.kind) {
    case 'batch': {
      const done = new Set(step.requests);
      s.queue = s.queue.filter((r) => !done.has(r));
      return;
    }
    case 'lock':
      s.queue = s.queue.filter((r) => r !== step.request);
      s.lockedBy = step.request.parent;
      return;
    case 'release':
      s.queue = s.queue.filter((r) => r !== step.request);
      if (s.lockedBy === step.request.parent) s.lockedBy = undefined;
      return;
    case 'drop':
      s.queue = s.queue.filter((r) => r !== step.request);
      return;
    case 'idle':
      return;
    default:
      assertNever(step);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected step ${JSON.stringify(x)}`);
}

/** `@name@key`, as durable-functions' `EntityId.getSchedulerIdFromEntityId` (name lower-cased). */
export function schedulerId(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

/** The name and key of a scheduler id, or undefined if it is not one. */
export function parseSchedulerId(id: string): { name: string; key: string } | undefined {
  const m = /^@([^@]*)@([\s\S]*)$/.exec(id);
  return m ? { name: m[1]!, key: m[2]! } : undefined;
}
