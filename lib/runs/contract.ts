/**
 * How anything starts a pipeline run: the REST API, the schedule evaluator and the queue trigger all
 * call `startRun` (lib/runs/start.ts) with one of these. The trigger is recorded on the run document.
 */
export type TriggerInfo =
  | { type: 'rest'; idempotencyKey?: string; caller?: string }
  | { type: 'schedule'; schedule: string; occurrence: string }
  | { type: 'queue'; queue: string; messageId: string; idempotencyKey?: string; replyTo?: string };

export interface StartRunRequest {
  pipeline: string;
  /** A version number; absent means the pipeline's default version at start time. */
  version?: number;
  parameters?: Record<string, unknown>;
  /** Pipeline input name → dataset reference (`name@version`, `name@latest`) or artifact hash. */
  inputs?: Record<string, string>;
  tags?: Record<string, string>;
  forceRerun?: boolean;
  continueOnStepFailure?: boolean;
  /**
   * A caller-chosen identity. Two starts with the same key return the same run. Schedules derive it
   * from the schedule name and the occurrence time; queue messages from `idempotencyKey` or the message.
   */
  idempotencyKey?: string;
}

export interface StartRunResult {
  runId: string;
  status: string;
  /** False when an earlier start with the same idempotency key already created this run. */
  created: boolean;
}
