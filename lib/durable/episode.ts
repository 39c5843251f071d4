/**
 * The deterministic heart of the engine: given what one orchestrator episode returned, decide which
 * events to append and which work to dispatch, allocating event ids exactly as durable-functions'
 * TaskOrchestrationExecutor does (reference §3.2–§3.4, §4.1–§4.2). Pure: no I/O, no clock.
 *
 * The same `applyEvent` rebuilds an execution's state from stored history after a restart, so the
 * in-memory and recovered states cannot drift apart.
 */
import {
  Act,
  Ev,
  HTTP_ACTIVITY,
  HTTP_POLL_DEFAULT_MS,
  retryDelayMs,
  type HistoryEvent,
  type HttpTag,
  type RetryPolicy,
  type RetryTag,
} from './history';
import { schedulerId, type EntityRequest } from './entity-scheduler';

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

/** Work an episode asks for; dispatched once the episode is committed (activities: right away). */
export type Work =
  | { kind: 'activity'; id: number; name: string; input: string | null }
  | { kind: 'timer'; id: number; fireAt: string }
  | { kind: 'sub'; id: number; name: string; instanceId: string; input: string | null; version?: string }
  /** A request to an entity: saved at the entity before the episode commits. */
  | { kind: 'entity'; target: string; request: EntityRequest };

export type Outcome =
  | { kind: 'continue' }
  | { kind: 'completed'; output: unknown }
  | { kind: 'failed'; message: string; failureDetails?: unknown }
  | { kind: 'continueAsNew'; input: string | null };

export interface EpisodePlan {
  /** Scheduling events to append after the episode's input events (EventId order). */
  events: HistoryEvent[];
  work: Work[];
  /** Signatures of the leaves handled for the first time in this episode. */
  newLeaves: LeafSig[];
  outcome: Outcome;
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

/** Depth-first leaves of a V2+ action list (WhenAll/WhenAny expanded in order). */
export function flattenActions(actions: unknown): any[] {
  const out: any[] = [];
  const walk = (list: any[]): void => {
    for (const a of list) {
      if (!a || typeof a !== 'object') continue;
      if (
        (a.actionType === Act.WhenAll || a.actionType === Act.WhenAny) &&
        Array.isArray(a.compoundActions)
      ) {
        walk(a.compoundActions);
      } else out.push(a);
    }
  };
  if (Array.isArray(actions)) for (const group of actions) if (Array.isArray(group)) walk(group);
  return out;
}

function leafSig(a: any): LeafSig {
  const n =
    typeof a.functionName === 'string'
      ? a.functionName
      : typeof a.externalEventName === 'string'
        ? a.externalEventName
        : '';
  return { t: a.actionType, n };
}

const ACTION_WORDS: Record<number, string> = {
  [Act.CallActivity]: 'an activity call',
  [Act.CallActivityWithRetry]: 'an activity call with retry',
  [Act.CallSubOrchestrator]: 'a sub-orchestration call',
  [Act.CallSubOrchestratorWithRetry]: 'a sub-orchestration call with retry',
  [Act.ContinueAsNew]: 'continueAsNew',
  [Act.CreateTimer]: 'a durable timer',
  [Act.WaitForExternalEvent]: 'a wait for an external event',
  [Act.CallHttp]: 'an HTTP call',
  [Act.CallEntity]: 'an entity call',
  [Act.SignalEntity]: 'an entity signal',
  [Act.LockEntities]: 'an entity lock',
  [Act.ReleaseEntities]: 'a lock release',
};

function describe(sig: LeafSig): string {
  const what = ACTION_WORDS[sig.t] ?? `action type ${sig.t}`;
  return sig.n ? `${what} '${sig.n}'` : what;
}

/** Encodes an activity / continueAsNew input like the extension pipeline (§4.3): stored as JSON text. */
export function encodeStringEncodedInput(input: unknown): string | null {
  if (input === undefined) return null;
  // processInput JSON-encoded strings already; a string here is JSON text.
  if (typeof input === 'string') return input;
  return JSON.stringify(input);
}

/** Sub-orchestration inputs are raw values. */
export function encodeRawInput(input: unknown): string | null {
  return input === undefined ? null : JSON.stringify(input);
}

export function unsupportedMessage(actionType: number): string | undefined {
  switch (actionType) {
    case Act.ScheduledSignalEntity:
      return (
        'Scheduled entity signals are not supported by the local host (Sluice). Signal the entity from an ' +
        'orchestration after a durable timer instead, or run this app on Azure Functions.'
      );
    default:
      return undefined;
  }
}

export interface PlanInput {
  /** The orchestrator's action tree (`OrchestratorState.actions`). */
  actions: unknown;
  isDone: boolean;
  output?: unknown;
  /** Set when the orchestrator threw (or the handler failed). */
  error?: string;
  failureDetails?: unknown;
  /** The last event of the episode if it is a saga trigger (already applied to `state`'s open ops? no: before). */
  sagaTrigger?: HistoryEvent;
  /** The episode time (OrchestratorStarted.Timestamp) in ms. */
  nowMs: number;
  orchestratorName: string;
  executionId: string;
  /** The orchestration's instance id (the sender of its entity requests). */
  instanceId: string;
}

/**
 * Plans one episode. Call after the episode's input events were applied to `state`, except the saga
 * trigger whose op information is passed separately (it has been closed already: pass the op).
 */
export function planEpisode(state: ExecState, input: PlanInput, sagaOp?: OpenOp): EpisodePlan {
  const plan: EpisodePlan = { events: [], work: [], newLeaves: [], outcome: { kind: 'continue' } };
  const fail = (message: string, failureDetails?: unknown): EpisodePlan => {
    plan.outcome = {
      kind: 'failed',
      message: `Orchestrator function '${input.orchestratorName}' failed: ${message}`,
      failureDetails,
    };
    return plan;
  };
  if (input.error !== undefined) return fail(input.error, input.failureDetails);

  const leaves = flattenActions(input.actions);
  const known = state.leaves.length;
  for (let i = 0; i < Math.min(known, leaves.length); i++) {
    const now = leafSig(leaves[i]);
    const was = state.leaves[i]!;
    if (now.t !== was.t || now.n !== was.n) {
      return fail(
        `Non-deterministic workflow detected: the history says this orchestration's action #${i} was ` +
          `${describe(was)}, but the code now produces ${describe(now)} at that point. Was the orchestrator ` +
          `code changed after this instance started? Finish or terminate old instances before deploying ` +
          `changes, or start a new instance.`,
      );
    }
  }
  if (leaves.length < known && !input.isDone) {
    return fail(
      `Non-deterministic workflow detected: the history holds ${known} actions but the code now produces ` +
        `only ${leaves.length} when replaying it. Was the orchestrator code changed after this instance started?`,
    );
  }
  const ts = new Date(input.nowMs).toISOString();
  const schedule = (ev: HistoryEvent): void => {
    plan.events.push(ev);
    applyEvent(state, ev);
  };
  const sendToEntity = (target: string, request: EntityRequest, id: number): void => {
    schedule({
      EventType: Ev.EventSent,
      EventId: id,
      Timestamp: ts,
      InstanceId: target,
      Name: request.kind === 'op' ? request.op : request.kind,
      Input: JSON.stringify(request),
    });
    plan.work.push({ kind: 'entity', target, request });
  };
  let continueAsNew: string | null | undefined;
  for (let i = known; i < leaves.length; i++) {
    const a = leaves[i];
    const sig = leafSig(a);
    plan.newLeaves.push(sig);
    state.leaves.push(sig);
    const unsupported = unsupportedMessage(a.actionType);
    if (unsupported) return fail(unsupported);
    switch (a.actionType) {
      case Act.CallActivity:
      case Act.CallActivityWithRetry: {
        const id = state.nextEventId;
        const ev: HistoryEvent = {
          EventType: Ev.TaskScheduled,
          EventId: id,
          Timestamp: ts,
          Name: a.functionName,
          Input: encodeStringEncodedInput(a.input),
        };
        if (a.actionType === Act.CallActivityWithRetry)
          ev.Retry = { saga: id, attempt: 1, policy: policyOf(a.retryOptions) };
        schedule(ev);
        plan.work.push({ kind: 'activity', id, name: a.functionName, input: ev.Input ?? null });
        break;
      }
      case Act.CallSubOrchestrator:
      case Act.CallSubOrchestratorWithRetry: {
        const id = state.nextEventId;
        const ev: HistoryEvent = {
          EventType: Ev.SubOrchestrationInstanceCreated,
          EventId: id,
          Timestamp: ts,
          Name: a.functionName,
          InstanceId: a.instanceId ? String(a.instanceId) : `${input.executionId}:${id}`,
          Input: encodeRawInput(a.input),
        };
        if (a.version) ev.Version = String(a.version);
        if (a.actionType === Act.CallSubOrchestratorWithRetry) {
          ev.Retry = { saga: id, attempt: 1, policy: policyOf(a.retryOptions), generated: !a.instanceId };
        }
        schedule(ev);
        plan.work.push(subWork(ev));
        break;
      }
      case Act.CreateTimer: {
        const id = state.nextEventId;
        const fireAt = new Date(a.fireAt).toISOString();
        schedule({ EventType: Ev.TimerCreated, EventId: id, Timestamp: ts, FireAt: fireAt });
        plan.work.push({ kind: 'timer', id, fireAt });
        break;
      }
      case Act.CallHttp: {
        const id = state.nextEventId;
        const request = a.httpRequest ?? {};
        const ev: HistoryEvent = {
          EventType: Ev.TaskScheduled,
          EventId: id,
          Timestamp: ts,
          Name: HTTP_ACTIVITY,
          Input: JSON.stringify(request),
          // Schema V3: durable-functions polls a 202 itself unless polling is off.
          Http: { poll: request.asynchronousPatternEnabled !== false },
        };
        schedule(ev);
        plan.work.push({ kind: 'activity', id, name: HTTP_ACTIVITY, input: ev.Input ?? null });
        break;
      }
      case Act.CallEntity:
      case Act.SignalEntity: {
        const id = state.nextEventId;
        const request: EntityRequest = {
          id: `${input.executionId}:${id}`,
          kind: 'op',
          op: String(a.operation),
          input: encodeRawInput(a.input),
          signal: a.actionType === Act.SignalEntity,
          parent: input.instanceId,
        };
        sendToEntity(String(a.instanceId), request, id);
        break;
      }
      case Act.LockEntities: {
        const lockSet = (Array.isArray(a.lockSet) ? a.lockSet : []).map((e: any) =>
          schedulerId(String(e.name), String(e.key)),
        );
        if (!lockSet.length) return fail('lock() was called without entities.');
        const request: EntityRequest = {
          id: String(a.lockRequestId),
          kind: 'lock',
          lockSet,
          position: 0,
          parent: input.instanceId,
        };
        sendToEntity(lockSet[0]!, request, state.nextEventId);
        break;
      }
      case Act.ReleaseEntities: {
        // durable-functions takes one id per locked entity.
        for (const target of state.heldLocks ?? []) {
          const id = state.nextEventId;
          sendToEntity(
            target,
            { id: `${input.executionId}:${id}`, kind: 'release', parent: input.instanceId },
            id,
          );
        }
        state.heldLocks = undefined;
        break;
      }
      case Act.ContinueAsNew:
        continueAsNew = encodeStringEncodedInput(a.input);
        break;
      case Act.WaitForExternalEvent:
        break;
      default:
        return fail(`the orchestrator produced an action of unknown type ${a.actionType}.`);
    }
  }
  if (sagaOp?.http && input.sagaTrigger && !input.isDone)
    reactToAccepted(state, input, sagaOp, ts, plan, schedule);
  else if (sagaOp?.retry && input.sagaTrigger && !input.isDone)
    reactToSaga(state, input, sagaOp, ts, plan, schedule);
  // Polling timers that fired: the request durable-functions reserved an id for goes out now.
  for (const op of state.httpDue.splice(0)) {
    const ev: HistoryEvent = {
      EventType: Ev.TaskScheduled,
      EventId: op.http!.call!,
      Timestamp: ts,
      Name: HTTP_ACTIVITY,
      Input: op.http!.next ?? null,
      Http: { poll: true },
    };
    schedule(ev);
    plan.work.push({ kind: 'activity', id: ev.EventId, name: HTTP_ACTIVITY, input: ev.Input ?? null });
  }
  if (continueAsNew !== undefined) plan.outcome = { kind: 'continueAsNew', input: continueAsNew };
  else if (input.isDone) plan.outcome = { kind: 'completed', output: input.output };
  return plan;
}

function reactToSaga(
  state: ExecState,
  input: PlanInput,
  op: OpenOp,
  ts: string,
  plan: EpisodePlan,
  schedule: (ev: HistoryEvent) => void,
): void {
  const tag = op.retry!;
  const trig = input.sagaTrigger!;
  const id = state.nextEventId;
  if (trig.EventType === Ev.TaskFailed || trig.EventType === Ev.SubOrchestrationInstanceFailed) {
    const fireAt = new Date(input.nowMs + retryDelayMs(tag.policy, tag.attempt)).toISOString();
    schedule({ EventType: Ev.TimerCreated, EventId: id, Timestamp: ts, FireAt: fireAt, Retry: { ...tag } });
    plan.work.push({ kind: 'timer', id, fireAt });
    return;
  }
  // A retry timer fired with attempts left: the next attempt.
  const first = state.sagas.get(tag.saga);
  if (!first) return;
  const retry: RetryTag = { ...tag, attempt: tag.attempt + 1 };
  if (first.EventType === Ev.TaskScheduled) {
    const ev: HistoryEvent = {
      EventType: Ev.TaskScheduled,
      EventId: id,
      Timestamp: ts,
      Name: first.Name,
      Input: first.Input ?? null,
      Retry: retry,
    };
    schedule(ev);
    plan.work.push({ kind: 'activity', id, name: first.Name!, input: ev.Input ?? null });
  } else {
    const explicit = !tag.generated;
    const ev: HistoryEvent = {
      EventType: Ev.SubOrchestrationInstanceCreated,
      EventId: id,
      Timestamp: ts,
      Name: first.Name,
      InstanceId: explicit ? first.InstanceId : `${input.executionId}:${id}`,
      Input: first.Input ?? null,
      Retry: retry,
    };
    if (first.Version) ev.Version = first.Version;
    schedule(ev);
    plan.work.push(subWork(ev));
  }
}

/**
 * A polled callHttp answered 202 with a Location: durable-functions takes two ids, a timer (Retry-After,
 * else the default wait) and the next request, which the extension makes a GET of the Location with the
 * original headers (`CallHttpAsync`).
 */
function reactToAccepted(
  state: ExecState,
  input: PlanInput,
  op: OpenOp,
  ts: string,
  plan: EpisodePlan,
  schedule: (ev: HistoryEvent) => void,
): void {
  const accepted = acceptedLocation(op, input.sagaTrigger!);
  if (!accepted) return;
  let original: any = {};
  try {
    original = JSON.parse(op.input ?? '{}') ?? {};
  } catch {
    /* keep the defaults */
  }
  let uri = accepted.location;
  try {
    uri = new URL(accepted.location, original.uri).toString();
  } catch {
    /* an absolute Location, or one the request will reject */
  }
  const next = JSON.stringify({ ...original, method: 'GET', uri, content: null });
  const id = state.nextEventId;
  const fireAt = new Date(input.nowMs + accepted.delayMs).toISOString();
  schedule({
    EventType: Ev.TimerCreated,
    EventId: id,
    Timestamp: ts,
    FireAt: fireAt,
    Http: { poll: true, call: id + 1, next },
  });
  plan.work.push({ kind: 'timer', id, fireAt });
}

function subWork(ev: HistoryEvent): Work {
  return {
    kind: 'sub',
    id: ev.EventId,
    name: ev.Name!,
    instanceId: ev.InstanceId!,
    input: ev.Input ?? null,
    version: ev.Version,
  };
}

function policyOf(raw: any): RetryPolicy {
  const o = raw && typeof raw === 'object' ? raw : {};
  const num = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  return {
    firstRetryIntervalInMilliseconds: num(o.firstRetryIntervalInMilliseconds) ?? 1000,
    maxNumberOfAttempts: num(o.maxNumberOfAttempts) ?? 1,
    backoffCoefficient: num(o.backoffCoefficient),
    maxRetryIntervalInMilliseconds: num(o.maxRetryIntervalInMilliseconds),
    retryTimeoutInMilliseconds: num(o.retryTimeoutInMilliseconds),
  };
}
