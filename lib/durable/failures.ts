/**
 * How a failed task is written into history: `TaskFailed` and `SubOrchestrationInstanceFailed` events,
 * with Reason/Details strings or, for an app that registered an exception properties provider,
 * FailureDetails as the extension writes them.
 *
 * Pure: the time is passed in.
 */
import { Ev, tryJsonParse, type HistoryEvent } from './history';

/** A failure event of `type` answering task `id`, with Reason/Details strings. */
export function failedEvent(
  type: number,
  id: number,
  reason: string,
  details: string,
  now: number,
): HistoryEvent {
  return {
    EventType: type,
    EventId: -1,
    Timestamp: new Date(now).toISOString(),
    TaskScheduledId: id,
    Reason: reason,
    Details: details,
  };
}

/**
 * An activity error as the extension reports it: FailureDetails when the app registered an exception
 * properties provider (durable-functions then puts JSON in the message), else Reason/Details strings.
 */
export function activityFailure(name: string, id: number, err: any, now: number): HistoryEvent {
  const message = String(err?.message ?? err);
  if (message.startsWith('{')) {
    const p = tryJsonParse(message) as any;
    if (p && typeof p === 'object' && typeof p.errorType === 'string' && typeof p.errorMessage === 'string') {
      return {
        EventType: Ev.TaskFailed,
        EventId: -1,
        Timestamp: new Date(now).toISOString(),
        TaskScheduledId: id,
        FailureDetails: {
          ErrorType: p.errorType,
          ErrorMessage: p.errorMessage,
          StackTrace: typeof p.stackTrace === 'string' ? p.stackTrace : undefined,
          IsNonRetriable: false,
          Properties: p.properties ?? null,
          InnerFailure: null,
        },
      };
    }
  }
  const details = JSON.stringify({ name: err?.name ?? 'Error', message, stack: err?.stack ?? '' });
  return failedEvent(Ev.TaskFailed, id, `Activity function '${name}' failed: ${message}`, details, now);
}
