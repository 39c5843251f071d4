/**
 * Timer triggers: six-field NCRONTAB schedules (seconds first), `runOnStartup`, and `useMonitor`
 * schedule status persisted in blob storage so an occurrence missed while the host was down fires
 * once, with `isPastDue: true`, after a restart. All waiting goes through the process clock.
 */
import { CronExpressionParser } from 'cron-parser';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { getClock, type ClockTimer } from './clock';
import type { InvokeInternalOptions } from './invoker';
import type { RetryPolicy } from './retry';
import type { HostLogger } from './types';

export class TimerScheduleError extends Error {
  override name = 'TimerScheduleError';
}

/** A parsed schedule: the next occurrence strictly after a time. */
export interface Schedule {
  readonly expression: string;
  next(after: number): number;
  /** The latest occurrence at or before `t`. */
  latest(t: number): number;
}

/** Resolves `%SETTING%` binding expressions against the environment, as the Functions host does. */
export function resolveSetting(value: string, what: string): string {
  return value.replace(/%([^%]+)%/g, (_m, name: string) => {
    const v = process.env[name];
    if (v === undefined)
      throw new TimerScheduleError(`${what} refers to app setting %${name}% but it is not set.`);
    return v;
  });
}

export function parseSchedule(expression: string, functionName: string): Schedule {
  const expr = expression.trim();
  const fields = expr.split(/\s+/);
  if (fields.length !== 6)
    throw new TimerScheduleError(
      `Timer function "${functionName}": schedule "${expr}" has ${fields.length} fields; NCRONTAB needs six ` +
        `({second} {minute} {hour} {day} {month} {day-of-week}), e.g. "0 */5 * * * *" for every five minutes.`,
    );
  const tz = process.env.WEBSITE_TIME_ZONE || 'UTC';
  try {
    CronExpressionParser.parse(expr, { currentDate: new Date(0), tz });
  } catch (e) {
    throw new TimerScheduleError(
      `Timer function "${functionName}": schedule "${expr}" is not valid NCRONTAB: ${(e as Error).message}`,
    );
  }
  return {
    expression: expr,
    next(after: number): number {
      return CronExpressionParser.parse(expr, { currentDate: new Date(after), tz })
        .next()
        .getTime();
    },
    latest(t: number): number {
      return CronExpressionParser.parse(expr, { currentDate: new Date(t + 1), tz })
        .prev()
        .getTime();
    },
  };
}

/** The Functions default for `useMonitor`: on when occurrences are more than a minute apart. */
export function defaultUseMonitor(schedule: Schedule, now: number): boolean {
  const a = schedule.next(now);
  const b = schedule.next(a);
  return b - a > 60_000;
}

export interface ScheduleStatus {
  last: string | null;
  next: string;
  lastUpdated: string;
}

/** Where schedule status lives: blob `timers/<app>/<function>/status` in container `azure-webjobs-hosts`. */
export class ScheduleMonitor {
  private container: ContainerClient;
  private ready: Promise<unknown> | undefined;

  constructor(
    connectionString: string,
    private readonly appName: string,
  ) {
    this.container =
      BlobServiceClient.fromConnectionString(connectionString).getContainerClient('azure-webjobs-hosts');
  }

  private blob(functionName: string) {
    return this.container.getBlockBlobClient(`timers/${this.appName}/${functionName}/status`);
  }

  async read(functionName: string): Promise<ScheduleStatus | undefined> {
    try {
      const buf = await this.blob(functionName).downloadToBuffer();
      const v = JSON.parse(buf.toString('utf8')) as Partial<ScheduleStatus> & Record<string, unknown>;
      // Accept the Functions host's own PascalCase file too.
      const next = (v.next ?? v.Next) as string | undefined;
      if (typeof next !== 'string') return undefined;
      return {
        last: ((v.last ?? v.Last) as string | null) ?? null,
        next,
        lastUpdated: ((v.lastUpdated ?? v.LastUpdated) as string) ?? next,
      };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async write(functionName: string, status: ScheduleStatus): Promise<void> {
    this.ready ??= this.container.createIfNotExists().catch((e) => {
      this.ready = undefined;
      throw e;
    });
    await this.ready;
    const body = JSON.stringify(status);
    await this.blob(functionName).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
  }
}

export interface TimerInfo {
  schedule: { adjustForDST: boolean };
  scheduleStatus: ScheduleStatus | undefined;
  isPastDue: boolean;
}

export interface TimerTriggerOptions {
  functionName: string;
  schedule: Schedule;
  runOnStartup: boolean;
  useMonitor: boolean;
  monitor: ScheduleMonitor | undefined;
  invoke(value: TimerInfo, retryContext?: InvokeInternalOptions['retryContext']): Promise<unknown>;
  /** The function's retry policy, if it registered one. */
  retry?: RetryPolicy;
  /** Counts a run (invocation plus status bookkeeping) as host work until released, so drains wait for it. */
  hold(): () => void;
  log: HostLogger;
}

const iso = (t: number): string => new Date(t).toISOString();

/** One timer-triggered function's listener. */
export class TimerListener {
  private timer: ClockTimer | undefined;
  private stopped = false;
  private last: string | null = null;
  private running: Promise<unknown> | undefined;
  private cancelRetry: (() => void) | undefined;

  constructor(private readonly o: TimerTriggerOptions) {}

  /** The next occurrence, for the start-up table. */
  nextOccurrence(): number {
    return this.o.schedule.next(getClock().now());
  }

  async start(): Promise<void> {
    const clock = getClock();
    const now = clock.now();
    let pastDue = false;
    let stored: ScheduleStatus | undefined;
    if (this.o.useMonitor && this.o.monitor) {
      try {
        stored = await this.o.monitor.read(this.o.functionName);
      } catch (e) {
        this.o.log.warn(
          `Timer '${this.o.functionName}': cannot read its schedule status (${(e as Error).message}).`,
        );
      }
      if (stored) {
        this.last = stored.last;
        pastDue = Date.parse(stored.next) <= now;
      }
    }
    if (pastDue || this.o.runOnStartup) {
      if (pastDue)
        this.o.log.info(
          `Timer '${this.o.functionName}' missed its occurrence at ${stored!.next}; running it now (past due).`,
        );
      // In the background, like the Functions host: start-up is not held up by the app's function.
      this.run(now, pastDue, stored, now);
      return;
    }
    if (this.o.useMonitor && this.o.monitor && !stored) await this.persist(now).catch(() => {});
    this.arm(now);
  }

  private run(
    occurrence: number,
    isPastDue: boolean,
    stored: ScheduleStatus | undefined,
    armFrom: number,
  ): void {
    const lease = { release: this.o.hold() };
    this.running = this.fire(occurrence, isPastDue, stored, lease).finally(() => {
      lease.release();
      this.arm(armFrom);
    });
  }

  /**
   * Waits for the first occurrence after `from`. Runs of one timer never overlap; occurrences that
   * passed during a run, or in one jump of a manual clock, run once, as the latest of them.
   */
  private arm(from: number): void {
    if (this.stopped) return;
    const clock = getClock();
    const next = this.o.schedule.next(from);
    const due = (): void => {
      if (this.stopped) return;
      const now = clock.now();
      // System clock timers cap at ~24.8 days: wait again until the occurrence is due.
      if (now < next) {
        this.timer = clock.setTimeout(due, next - now);
        return;
      }
      const occurrence = Math.max(next, this.o.schedule.latest(now));
      this.run(occurrence, false, undefined, occurrence);
    };
    due();
  }

  private async fire(
    occurrence: number,
    isPastDue: boolean,
    stored: ScheduleStatus | undefined,
    lease: { release: () => void },
  ): Promise<void> {
    const clock = getClock();
    const status: ScheduleStatus = stored
      ? { last: stored.last, next: stored.next, lastUpdated: stored.lastUpdated }
      : { last: this.last, next: iso(occurrence), lastUpdated: iso(clock.now()) };
    const value = {
      schedule: { adjustForDST: true },
      scheduleStatus: this.o.useMonitor ? status : undefined,
      isPastDue,
    };
    const retry = this.o.retry;
    for (let retryCount = 0; ; retryCount++) {
      try {
        await this.o.invoke(
          value,
          retryCount ? { retryCount, maxRetryCount: retry!.maxRetryCount } : undefined,
        );
        break;
      } catch {
        // The invoker logged the failure; without a retry policy a failed timer run is not retried.
        if (!retry || this.stopped || (retry.maxRetryCount >= 0 && retryCount >= retry.maxRetryCount)) break;
        // Waiting for a retry is not work in flight: a manual clock must be able to move past it.
        lease.release();
        await new Promise<void>((resolve) => {
          const t = getClock().setTimeout(resolve, retry.delayMs(retryCount + 1));
          this.cancelRetry = () => {
            t.cancel();
            resolve();
          };
        });
        this.cancelRetry = undefined;
        lease.release = this.o.hold();
        if (this.stopped) break;
      }
    }
    this.last = iso(occurrence);
    if (this.o.useMonitor && this.o.monitor)
      await this.persist(occurrence).catch((e) =>
        this.o.log.warn(
          `Timer '${this.o.functionName}': cannot save its schedule status (${(e as Error).message}).`,
        ),
      );
  }

  private async persist(from: number): Promise<void> {
    const clock = getClock();
    // The occurrence after this one, even if it already passed: a restart then runs it past due.
    const next = this.o.schedule.next(from);
    await this.o.monitor!.write(this.o.functionName, {
      last: this.last,
      next: iso(next),
      lastUpdated: iso(clock.now()),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.cancelRetry?.();
    await this.running?.catch(() => {});
  }
}
