/**
 * Durable timers: an instance's `CreateTimer` actions armed on the host clock, delivering `TimerFired`.
 *
 * A timer is armed in memory only; its schedule is in history, so recovery re-arms it (one that fell
 * due while the host was down fires at once). A timer armed for an older execution delivers nothing.
 * While the engine drains for a stop, nothing is armed.
 */
import { Ev } from './history';
import type { Deliver, Instance } from './instance';
import type { EngineRuntime } from './runtime';

export class DurableTimers {
  constructor(
    private readonly rt: EngineRuntime,
    private readonly deliver: Deliver,
  ) {}

  arm(inst: Instance, id: number, fireAt: string): void {
    if (this.rt.draining) return; // re-armed from history after the next start
    const clock = this.rt.clock;
    const at = Date.parse(fireAt);
    const execSeq = inst.rec.execSeq;
    const fire = (): void => {
      inst.timers.delete(id);
      if (inst.rec.execSeq !== execSeq) return;
      // System timers cap at ~24.8 days and fire early for longer ones: wait again.
      if (clock.now() < at) {
        inst.timers.set(id, clock.setTimeout(fire, at - clock.now()));
        return;
      }
      this.deliver(inst, {
        kind: 'event',
        ev: {
          EventType: Ev.TimerFired,
          EventId: -1,
          Timestamp: new Date(Math.max(clock.now(), at)).toISOString(),
          TimerId: id,
          FireAt: fireAt,
        },
      });
    };
    inst.timers.get(id)?.cancel();
    inst.timers.set(id, clock.setTimeout(fire, at - clock.now()));
  }

  /** Cancels and forgets every timer the instance has armed. */
  cancelAll(inst: Instance): void {
    for (const t of inst.timers.values()) t.cancel();
    inst.timers.clear();
  }
}
