/**
 * Activities: each scheduled task runs through the app's activity function (or, for `callHttp`, the
 * built-in HTTP activity) and its completion or failure is delivered to the instance.
 *
 * At most `maxActivities` run at once. A completion for an older execution (continueAsNew, restart) is
 * dropped. While the engine drains for a stop, an activity that has not started does not run (it is in
 * history and runs after the next start); one that fails because the host is stopping reports nothing.
 */
import { Ev, HTTP_ACTIVITY, tryJsonParse, type HistoryEvent } from './history';
import type { Work } from './episode';
import { activityFailure, failedEvent } from './failures';
import { performDurableHttp } from './http-activity';
import type { Deliver, Instance } from './instance';
import type { EngineRuntime } from './runtime';
import { Semaphore } from './semaphore';

export type ActivityWork = Extract<Work, { kind: 'activity' }>;

export class ActivityRunner {
  private readonly slots: Semaphore;
  /** Activities running now (a graceful stop waits for them). */
  running = 0;

  constructor(
    private readonly rt: EngineRuntime,
    maxActivities: number,
    private readonly deliver: Deliver,
  ) {
    this.slots = new Semaphore(maxActivities);
  }

  run(inst: Instance, w: ActivityWork, execSeq: number): void {
    const { ctx, clock } = this.rt;
    const run = async (): Promise<void> => {
      await this.slots.acquire();
      let ev: HistoryEvent;
      this.running++;
      try {
        if (this.rt.draining) return;
        const fn = ctx.functions.get(w.name);
        if (w.name === HTTP_ACTIVITY) {
          ev = await this.httpCall(w);
        } else if (!fn || fn.trigger.type !== 'activityTrigger') {
          ev = failedEvent(
            Ev.TaskFailed,
            w.id,
            `The activity function '${w.name}' doesn't exist, is disabled, or is not an activity function. ` +
              `Register it with df.app.activity('${w.name}', { handler }).`,
            '',
            clock.now(),
          );
        } else {
          try {
            const res = await ctx.invoke(w.name, w.input === null ? undefined : tryJsonParse(w.input));
            ev = {
              EventType: Ev.TaskCompleted,
              EventId: -1,
              Timestamp: new Date(clock.now()).toISOString(),
              TaskScheduledId: w.id,
              Result: JSON.stringify(res.returnValue ?? null),
            };
          } catch (err: any) {
            if (this.rt.stopping) return;
            ev = activityFailure(w.name, w.id, err, clock.now());
          }
        }
      } finally {
        this.running--;
        this.slots.release();
      }
      if (inst.rec.execSeq !== execSeq) return;
      this.deliver(inst, { kind: 'event', ev });
    };
    this.rt
      .track(run())
      .catch((err) => ctx.log.error(`durable: activity '${w.name}' dispatch failed: ${err}`));
  }

  /** A callHttp request (the extension's built-in HTTP activity). */
  private async httpCall(w: ActivityWork): Promise<HistoryEvent> {
    try {
      const result = await performDurableHttp(w.input);
      return {
        EventType: Ev.TaskCompleted,
        EventId: -1,
        Timestamp: new Date(this.rt.clock.now()).toISOString(),
        TaskScheduledId: w.id,
        Result: result,
      };
    } catch (err: any) {
      return activityFailure(w.name, w.id, err, this.rt.clock.now());
    }
  }
}
