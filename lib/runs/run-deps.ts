import { cancelJob, checkJob, submitJob } from '../compute/dispatch';
import { readJob } from '../compute/jobs';
import { getComputeTarget } from '../compute/targets-store';
import { getClock, type Clock } from '../host/clock';
import { runSettings, type RunSettings } from './run-settings';

/**
 * The one bundle of dependencies the run engine's parts share (Trigger.dev's run-engine shape): compute,
 * time, settings, and the durable client's `raise`. It is built once per activity call by the façade
 * (engine.ts) and passed down; no part below looks up a global. The stores stay modules of their own
 * (store.ts, cache-store.ts): they are the persistence, not a policy.
 */
export interface RunDeps {
  clock: Clock;
  settings: RunSettings;
  compute: {
    submit: typeof submitJob;
    cancel: typeof cancelJob;
    check: typeof checkJob;
    read: typeof readJob;
    target: typeof getComputeTarget;
  };
  /** Raises a durable event on another run's orchestration (single-flight followers); absent in polls. */
  raise?: RaiseEvent;
  /** Warnings about side effects that failed and were let go (the activity's log). */
  log: (message: string) => void;
}

/** Raises a durable event on another run's orchestration (the activity's durable client binding). */
export type RaiseEvent = (instanceId: string, eventName: string, data: unknown) => Promise<void>;

export function runDeps(opts: { raise?: RaiseEvent; log?: (m: string) => void } = {}): RunDeps {
  return {
    clock: getClock(),
    settings: runSettings(),
    compute: {
      submit: submitJob,
      cancel: cancelJob,
      check: checkJob,
      read: readJob,
      target: getComputeTarget,
    },
    ...(opts.raise ? { raise: opts.raise } : {}),
    log: opts.log ?? (() => {}),
  };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
