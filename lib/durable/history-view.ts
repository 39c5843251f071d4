/**
 * Instance history as the extension shows it to clients (`showHistory=true`, reference §5.3): event
 * type names instead of numbers, scheduling rows folded into their completions, outputs only when
 * asked for. Pure.
 */
import { EV_NAMES, Ev, parseJsonText, type HistoryEvent } from './history';

/** History as the extension shows it (§5.3): names for types, scheduling rows folded into completions. */
export function historyForClient(events: HistoryEvent[], showOutput: boolean): unknown[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const e of events) {
    if (
      e.EventType === Ev.TaskScheduled ||
      e.EventType === Ev.SubOrchestrationInstanceCreated ||
      e.EventType === Ev.TimerCreated
    ) {
      scheduled.set(e.EventId, e);
    }
  }
  const out: unknown[] = [];
  for (const e of events) {
    switch (e.EventType) {
      case Ev.OrchestratorStarted:
      case Ev.OrchestratorCompleted:
      case Ev.TaskScheduled:
      case Ev.SubOrchestrationInstanceCreated:
        continue;
    }
    const row: Record<string, unknown> = {
      EventType: EV_NAMES[e.EventType] ?? String(e.EventType),
      Timestamp: e.Timestamp,
    };
    if (e.EventType === Ev.ExecutionStarted) {
      row.FunctionName = e.Name;
      row.Input = parseJsonText(e.Input) ?? null;
    } else if (e.EventType === Ev.TimerCreated) {
      row.EventId = e.EventId;
      row.FireAt = e.FireAt;
    } else if (e.EventType === Ev.TimerFired) {
      row.FireAt = e.FireAt;
    } else if (e.TaskScheduledId !== undefined) {
      const s = scheduled.get(e.TaskScheduledId);
      row.TaskScheduledId = e.TaskScheduledId;
      if (s) {
        row.FunctionName = s.Name;
        row.ScheduledTime = s.Timestamp;
        if (s.InstanceId) row.InstanceId = s.InstanceId;
      }
      if (e.Reason !== undefined) row.Reason = e.Reason;
      if (e.Details !== undefined) row.Details = e.Details;
      if (e.FailureDetails) row.FailureDetails = e.FailureDetails;
      if (showOutput && e.Result !== undefined) row.Result = parseJsonText(e.Result) ?? null;
    } else if (e.EventType === Ev.EventRaised) {
      row.Name = e.Name;
      if (showOutput) row.Input = parseJsonText(e.Input) ?? null;
    } else if (e.EventType === Ev.ExecutionCompleted) {
      row.OrchestrationStatus = e.OrchestrationStatus;
      if (showOutput)
        row.Result = e.OrchestrationStatus === 'Completed' ? (parseJsonText(e.Result) ?? null) : e.Result;
    } else if (e.EventType === Ev.ExecutionTerminated) {
      row.Input = e.Input;
    } else if (e.Reason !== undefined) {
      row.Reason = e.Reason;
    }
    out.push(row);
  }
  return out;
}
