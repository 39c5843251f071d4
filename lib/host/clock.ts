/**
 * Time for everything that waits: timer triggers, durable timers, schedules, heartbeats.
 * Production uses the system clock. Tests start the host with a manual clock (`SLUICE_MANUAL_CLOCK=1`)
 * and move it forward through the host's admin endpoint, so timer-heavy scenarios take milliseconds.
 * The clock is process-global (one per host process), held on `globalThis` so that every module copy
 * — the host's and the loaded app's — sees the same one.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once the clock reaches `Date.now() + ms` (manual clocks: when advanced past it). */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  readonly manual: boolean;
}

export interface ClockTimer {
  cancel(): void;
}

class SystemClock implements Clock {
  readonly manual = false;
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): ClockTimer {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2_147_483_647)));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  }
}

/** A clock that only moves when told to. Starts at the real time unless given a start. */
export class ManualClock implements Clock {
  readonly manual = true;
  private current: number;
  private timers: Array<{ at: number; fn: () => void; seq: number }> = [];
  private seq = 0;

  constructor(start: number = Date.now()) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  setTimeout(fn: () => void, ms: number): ClockTimer {
    const entry = { at: this.current + Math.max(0, ms), fn, seq: this.seq++ };
    this.timers.push(entry);
    if (ms <= 0) queueMicrotask(() => this.fireDue());
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== entry)) };
  }
  /** Moves time forward (or to `to`), firing due timers in time order. */
  advance(ms: number): void {
    this.set(this.current + ms);
  }
  set(to: number): void {
    if (to > this.current) this.current = to;
    this.fireDue();
  }
  private fireDue(): void {
    const due = this.timers.filter((t) => t.at <= this.current).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.timers = this.timers.filter((t) => t.at > this.current);
    for (const t of due) t.fn();
  }
}

const KEY = Symbol.for('sluice.clock');

export function getClock(): Clock {
  const g = globalThis as unknown as Record<symbol, Clock | undefined>;
  let c = g[KEY];
  if (!c) {
    c = process.env.SLUICE_MANUAL_CLOCK === '1' ? new ManualClock() : new SystemClock();
    g[KEY] = c;
  }
  return c;
}

export function setClock(clock: Clock): void {
  (globalThis as unknown as Record<symbol, Clock>)[KEY] = clock;
}
