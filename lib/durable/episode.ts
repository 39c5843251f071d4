/**
 * The deterministic heart of the engine: given what one orchestrator episode returned, decide which
 * events to append and which work to dispatch, allocating event ids exactly as durable-functions'
 * TaskOrchestrationExecutor does (reference §3.2–§3.4, §4.1–§4.2). Pure: no I/O, no clock.
 *
 * The execution state it plans from and the `applyEvent` that updates it (also on recovery) are in
 * exec-state.ts; reading the action tree is in orchestrator-actions.ts.
 */
import { Act, Ev, HTTP_ACTIVITY, retryDelayMs, type HistoryEvent, type RetryTag } from './history';
import { schedulerId, type EntityRequest } from './entity-scheduler';
import { acceptedLocation, applyEvent, type ExecState, type LeafSig, type OpenOp } from './exec-state';
import {
  describe,
  encodeRawInput,
  encodeStringEncodedInput,
  flattenActions,
  leafSig,
  policyOf,
  unsupportedMessage,
} from './orchestrator-actions';

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
