/**
 * Reading the action tree durable-functions returns (`OrchestratorState.actions`): its leaves in yield
 * order, their signatures and how to name them in messages, inputs encoded as the extension stores
 * them, retry policies, and the actions the local host does not support.
 *
 * Pure: no I/O, no clock.
 */
import { Act, type RetryPolicy } from './history';
import type { LeafSig } from './exec-state';

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

export function leafSig(a: any): LeafSig {
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

export function describe(sig: LeafSig): string {
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

/** A retry policy as durable-functions sends it, with its defaults. */
export function policyOf(raw: any): RetryPolicy {
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
