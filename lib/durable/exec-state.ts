/**
 * An execution's replay state and how each history event changes it: the next event id, the leaves
 * handled so far, the open operations (scheduled, not yet completed), retry sagas, due callHttp polls
 * and held entity locks.
 *
 * Pure: no I/O, no clock. `applyEvent` runs on every event of a live episode and on every stored event
 * when an instance is recovered, so the in-memory and recovered states cannot drift apart.
 */
import { Ev, HTTP_POLL_DEFAULT_MS, type HistoryEvent, type HttpTag, type RetryTag } from './history';
import type { EntityRequest } from './entity-scheduler';

/** What a handled action looked like, to detect code that no longer matches its history. */
export interface LeafSig {
  /** ActionType. */
  t: number;
  /** Function or event name ('' for timers). */
  n: string;
}

export interface OpenOp {
  id: number;
  kind: 'activity' | 'timer' | 'sub';
  name?: string;
  /** JSON text of the input (activities, sub-orchestrations). */
  input?: string | null;
  instanceId?: string;
  version?: string;
  fireAt?: string;
  retry?: RetryTag;
  http?: HttpTag;
}

export interface ExecState {
  nextEventId: number;
  leaves: LeafSig[];
  open: Map<number, OpenOp>;
  /** First-attempt scheduling event of each retry saga (name, input, kind). */
  sagas: Map<number, HistoryEvent>;
  /** callHttp polling timers that fired: their reserved next request is scheduled by the episode. */
  httpDue: OpenOp[];
  /** The entities of the critical section the orchestration is in (lock sent, release not yet). */
  heldLocks?: string[];
}

export function newExecState(): ExecState {
  return { nextEventId: 0, leaves: [], open: new Map(), sagas: new Map(), httpDue: [] };
}

/** Updates `state` for one stored/new history event (scheduling opens an op, completion closes it). */
export function applyEvent(state: ExecState, ev: HistoryEvent): void {
  switch (ev.EventType) {
    case Ev.TaskScheduled:
    case Ev.SubOrchestrationInstanceCreated:
    case Ev.TimerCreated: {
      const op: OpenOp = {
        id: ev.EventId,
        kind:
          ev.EventType === Ev.TaskScheduled ? 'activity' : ev.EventType === Ev.TimerCreated ? 'timer' : 'sub',
        name: ev.Name,
        input: ev.Input ?? null,
        instanceId: ev.InstanceId,
        version: ev.Version,
        fireAt: ev.FireAt,
        retry: ev.Retry,
        http: ev.Http,
      };
      state.open.set(ev.EventId, op);
      if (ev.EventId >= state.nextEventId) state.nextEventId = ev.EventId + 1;
      // A polling timer reserves the id of the request after it (durable-functions takes both at once).
      if (ev.Http?.call !== undefined && ev.Http.call >= state.nextEventId)
        state.nextEventId = ev.Http.call + 1;
      if (ev.EventType === Ev.TaskScheduled && state.httpDue.length)
        state.httpDue = state.httpDue.filter((o) => o.http?.call !== ev.EventId);
      if (ev.Retry && ev.Retry.saga === ev.EventId) state.sagas.set(ev.EventId, ev);
      break;
    }
    case Ev.TaskCompleted:
    case Ev.TaskFailed:
    case Ev.SubOrchestrationInstanceCompleted:
    case Ev.SubOrchestrationInstanceFailed:
      state.open.delete(ev.TaskScheduledId!);
      break;
    case Ev.EventSent: {
      if (ev.EventId >= state.nextEventId) state.nextEventId = ev.EventId + 1;
      const req = entityRequestOf(ev);
      if (req?.kind === 'lock') state.heldLocks = req.lockSet;
      else if (req?.kind === 'release') state.heldLocks = undefined;
      break;
    }
    case Ev.TimerFired: {
      const op = state.open.get(ev.TimerId!);
      if (op?.http?.call !== undefined) state.httpDue.push(op);
      state.open.delete(ev.TimerId!);
      break;
    }
    default:
      break;
  }
}

/** The entity request an `EventSent` carries (its Input), if any. */
export function entityRequestOf(ev: HistoryEvent): EntityRequest | undefined {
  try {
    const r = JSON.parse(ev.Input ?? 'null');
    return r && typeof r === 'object' && typeof r.id === 'string' ? (r as EntityRequest) : undefined;
  } catch {
    return undefined;
  }
}

/** The 202-with-Location answer of a polled callHttp, or undefined for any other completion. */
export function acceptedLocation(
  op: OpenOp | undefined,
  ev: HistoryEvent,
): { location: string; delayMs: number } | undefined {
  if (!op?.http?.poll || ev.EventType !== Ev.TaskCompleted || !ev.Result) return undefined;
  let res: any;
  try {
    res = JSON.parse(ev.Result);
  } catch {
    return undefined;
  }
  if (res?.statusCode !== 202 || !res.headers || typeof res.headers !== 'object') return undefined;
  const header = (name: string): string | undefined => {
    const k = Object.keys(res.headers).find((h) => h.toLowerCase() === name);
    const v = k === undefined ? undefined : res.headers[k];
    return Array.isArray(v) ? String(v[0]) : v === undefined || v === null ? undefined : String(v);
  };
  const location = header('location');
  if (!location) return undefined;
  // durable-functions waits Retry-After seconds (moment.duration), else the configured default.
  const retryAfter = Number(header('retry-after'));
  const delayMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : HTTP_POLL_DEFAULT_MS;
  return { location, delayMs };
}

/** The id a completion event refers to, or undefined for events that complete no numbered task. */
export function completionId(ev: HistoryEvent): number | undefined {
  switch (ev.EventType) {
    case Ev.TaskCompleted:
    case Ev.TaskFailed:
    case Ev.SubOrchestrationInstanceCompleted:
    case Ev.SubOrchestrationInstanceFailed:
      return ev.TaskScheduledId;
    case Ev.TimerFired:
      return ev.TimerId;
    default:
      return undefined;
  }
}

/**
 * A "saga trigger" makes durable-functions allocate an id internally while it processes the event (retry
 * timer after a failed attempt; next attempt when a retry timer fires). An episode may hold at most one,
 * as its last event (§3.4), so the host can number the reaction after the new actions.
 */
export function isSagaTrigger(state: ExecState, ev: HistoryEvent): boolean {
  const id = completionId(ev);
  if (id === undefined) return false;
  const op = state.open.get(id);
  if (acceptedLocation(op, ev)) return true;
  if (!op?.retry) return false;
  if (ev.EventType === Ev.TaskFailed || ev.EventType === Ev.SubOrchestrationInstanceFailed) return true;
  if (ev.EventType === Ev.TimerFired) return op.retry.attempt < op.retry.policy.maxNumberOfAttempts;
  return false;
}
