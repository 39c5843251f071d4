/**
 * History events and actions of the Durable Task protocol as durable-functions 3.5.0 reads and writes
 * them (reference §3, §4). Events are stored PascalCase like DTFx so `showHistory` looks like Azure's.
 */

/** DTFx `EventType` numbers. */
export const Ev = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export const EV_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Ev).map(([k, v]) => [v, k]),
);

/** durable-functions `ActionType` numbers. */
export const Act = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  ScheduledSignalEntity: 10,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export type RuntimeStatus =
  'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Canceled' | 'Terminated' | 'Suspended';

export const RUNTIME_STATUSES: readonly RuntimeStatus[] = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
];

export function isTerminal(s: RuntimeStatus): boolean {
  return s === 'Completed' || s === 'Failed' || s === 'Terminated' || s === 'Canceled';
}

/** A stored history event (DTFx shape) plus Sluice's private retry bookkeeping (`Retry`, stripped on output). */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  Timestamp: string;
  IsPlayed?: boolean;
  Name?: string;
  Input?: string | null;
  Result?: string | null;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  Reason?: string;
  Details?: string;
  FailureDetails?: FailureDetails;
  OrchestrationStatus?: string;
  Version?: string;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
  ParentInstance?: { InstanceId: string; TaskScheduledId: number } | null;
  /** Sluice: which retry saga a scheduling event belongs to. */
  Retry?: RetryTag;
  /** Sluice: a callHttp request or the polling timer after its 202 (stripped on output). */
  Http?: HttpTag;
}

/** The built-in activity name the extension gives callHttp requests. */
export const HTTP_ACTIVITY = 'BuiltIn::HttpActivity';
/** `defaultHttpAsyncRequestSleepTimeMillseconds` this host sends (the extension's default). */
export const HTTP_POLL_DEFAULT_MS = 30_000;

/**
 * On a callHttp `TaskScheduled`: whether durable-functions polls a 202 (`poll`). On the polling
 * `TimerCreated` after a 202: the id durable-functions reserved for the next request (`call`) and that
 * request (`next`, JSON: a GET of the Location).
 */
export interface HttpTag {
  poll: boolean;
  call?: number;
  next?: string;
}

export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
  Properties?: unknown;
  InnerFailure?: FailureDetails | null;
}

/** The retry options a `…WithRetry` action carries (durable-functions `RetryOptions`). */
export interface RetryPolicy {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface RetryTag {
  /** EventId of the saga's first attempt: identifies the saga. */
  saga: number;
  /** 1-based attempt number this event belongs to (a timer belongs to the attempt that failed). */
  attempt: number;
  policy: RetryPolicy;
  /** Sub-orchestrations: the child id is generated per attempt (`<executionId>:<eventId>`). */
  generated?: boolean;
}

/**
 * DTFx RetryInterceptor: after failed attempt `attempt`, wait first·coeff^(attempt−1) capped by the max
 * interval; after the last attempt a zero "dummy" timer still runs (JS fails the task when it fires).
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  if (attempt >= policy.maxNumberOfAttempts) return 0;
  const coeff =
    typeof policy.backoffCoefficient === 'number' && policy.backoffCoefficient > 0
      ? policy.backoffCoefficient
      : 1;
  let delay = policy.firstRetryIntervalInMilliseconds * Math.pow(coeff, attempt - 1);
  const max = policy.maxRetryIntervalInMilliseconds;
  if (typeof max === 'number' && max > 0 && delay > max) delay = max;
  return Number.isFinite(delay) && delay > 0 ? delay : 0;
}

/** `JSON.parse` if possible, else the text (the worker's `fromRpcTypedData` rule for string data). */
export function tryJsonParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Parses a JSON text stored in an event or row; null/empty → undefined. */
export function parseJsonText(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === '') return undefined;
  return tryJsonParse(text);
}

/** Azure's status time format: `yyyy-MM-ddTHH:mm:ssZ`. */
export function statusTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
