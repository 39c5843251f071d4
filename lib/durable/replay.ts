/**
 * What durable-functions is handed to replay an orchestrator: the compact form of each history event
 * (only the fields it reads) and the constant fields of the orchestrator trigger value.
 *
 * Pure. Replay cost is per event and per byte, so `replayEvent` drops every event the library does not
 * read (it returns undefined for them) and every field it does not read.
 */
import { Ev, HTTP_POLL_DEFAULT_MS, type HistoryEvent } from './history';

/** Orchestrator trigger value fields this host always sends (reference §2.1, §2.3). */
export const BINDING_CONSTANTS = {
  upperSchemaVersion: 1,
  // Schema V4: V3 plus entity locks (LockEntities / ReleaseEntities).
  upperSchemaVersionNew: 3,
  // Every timer is one CreateTimer: no long-timer splitting needed.
  maximumShortTimerDuration: '3650.00:00:00',
  longRunningTimerIntervalDuration: '3.00:00:00',
  defaultHttpAsyncRequestSleepTimeMillseconds: HTTP_POLL_DEFAULT_MS,
};

/** The fields durable-functions reads, nothing else: replay cost is per event and per byte. */
export function replayEvent(ev: HistoryEvent): any | undefined {
  switch (ev.EventType) {
    case Ev.OrchestratorStarted:
      return { EventType: ev.EventType, Timestamp: new Date(ev.Timestamp), IsPlayed: false };
    case Ev.ExecutionStarted:
      return { EventType: ev.EventType, Version: ev.Version ?? '', IsPlayed: false };
    case Ev.TaskCompleted:
    case Ev.SubOrchestrationInstanceCompleted:
      return {
        EventType: ev.EventType,
        TaskScheduledId: ev.TaskScheduledId,
        Result: ev.Result,
        IsPlayed: false,
      };
    case Ev.TaskFailed:
    case Ev.SubOrchestrationInstanceFailed: {
      const r: any = { EventType: ev.EventType, TaskScheduledId: ev.TaskScheduledId, IsPlayed: false };
      if (ev.FailureDetails) r.FailureDetails = ev.FailureDetails;
      else {
        r.Reason = ev.Reason ?? '';
        r.Details = ev.Details ?? '';
      }
      return r;
    }
    case Ev.TimerFired:
      return { EventType: ev.EventType, TimerId: ev.TimerId, FireAt: ev.FireAt, IsPlayed: false };
    case Ev.EventRaised:
      return { EventType: ev.EventType, Name: ev.Name, Input: ev.Input ?? null, IsPlayed: false };
    case Ev.EventSent:
      // Re-keys an entity call or lock from its event id to its request id.
      return { EventType: ev.EventType, EventId: ev.EventId, Input: ev.Input ?? null, IsPlayed: false };
    default:
      return undefined;
  }
}
