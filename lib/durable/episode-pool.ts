/**
 * Orchestrator episodes run on worker threads, never on the host's event loop: orchestrator code is the
 * app's (`sluice host --app` runs other people's apps), and a synchronous loop in it would otherwise
 * stop the host from answering anything, and again after every restart (replay runs the same code).
 *
 * Each worker runs one episode at a time. The main thread times it; past the limit it stops the thread
 * (`Worker.terminate()` interrupts even `for(;;){}`), answers the episode with a timeout error (the
 * engine fails the instance with it, as Azure's functionTimeout does) and starts a fresh worker.
 * Other episodes never reached that worker (they wait here), so they run on the fresh one or another.
 *
 * The replay history of an instance stays in the worker that ran its last episode; the next episode
 * goes there with only its new events while that worker is free, otherwise to the least busy worker
 * with the whole history.
 */
import path from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { HostLogger } from '../host/types';
import type { FromWorker, ToWorker, WorkerInit } from './episode-worker';

export interface EpisodeRun {
  id: string;
  name: string;
  /** The whole replay history, new events included (the pool sends what the worker lacks). */
  replay: any[];
  /** The instance's input, read only when the worker does not hold it (a full send). */
  input: () => unknown;
  parentInstanceId?: string;
  isReplaying: boolean;
  /** Set for an entity batch: invoke entity function `name` with this trigger value instead. */
  entityValue?: unknown;
}

export interface EpisodeOutcome {
  /** The OrchestratorState the library returned (also when it threw, if it said). */
  state?: any;
  /** Why the episode failed, when it did. */
  error?: string;
}

export interface EpisodePoolOptions {
  appDir: string;
  size: number;
  /** Longest an episode may run. */
  timeoutMs: number;
  /** How the limit is named in the failure ("SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS", "host.json functionTimeout"). */
  limitSource: string;
  bindingConstants: Record<string, unknown>;
  logSuccess: boolean;
  log: HostLogger;
}

interface Job {
  seq: number;
  run: EpisodeRun;
  resolve: (o: EpisodeOutcome) => void;
  /** Forces a full history send (the worker reported a mismatch). */
  full?: boolean;
}

interface Slot {
  index: number;
  worker?: Worker;
  ready: boolean;
  /** The episode on the worker now, and its deadline timer. */
  current?: { job: Job; timer: NodeJS.Timeout; sent: number; started: number; top: any[] };
  /** Set once the app failed to load in a worker: every episode fails with it. */
  loadError?: string;
  /** Instances whose cached history this worker should drop (sent with its next message). */
  forget: string[];
  generation: number;
}

/** Formats ms as Azure formats functionTimeout (hh:mm:ss), with the seconds spelled out. */
function span(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

export class EpisodePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  /** Which worker holds an instance's history, and how many events of it. */
  /** `replay` is the array it was sent from: a new array (a new execution, a reload) starts afresh. */
  private readonly holder = new Map<string, { slot: Slot; length: number; replay: any[]; top: any[] }>();
  private seq = 0;
  private stopped = false;

  constructor(private readonly opts: EpisodePoolOptions) {
    for (let i = 0; i < Math.max(1, opts.size); i++) {
      const slot: Slot = { index: i, ready: false, forget: [], generation: 0 };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  /** Runs one episode on a worker; resolves with its state or error (never rejects). */
  run(run: EpisodeRun): Promise<EpisodeOutcome> {
    if (this.stopped) return Promise.resolve({ error: 'the host is stopping' });
    return new Promise((resolve) => {
      this.queue.push({ seq: ++this.seq, run, resolve });
      this.pump();
    });
  }

  /** The instance's history is no longer needed (finished, purged, or a new execution). */
  forget(id: string): void {
    const h = this.holder.get(id);
    if (!h) return;
    this.holder.delete(id);
    h.slot.forget.push(id);
    if (h.slot.forget.length >= 64 && h.slot.ready && h.slot.worker) this.flushForget(h.slot);
  }

  /** Whether some episode has been running for more than `ms`. */
  runningLongerThan(ms: number): boolean {
    const now = performance.now();
    return this.slots.some((s) => s.current !== undefined && now - s.current.started > ms);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const j of this.queue.splice(0)) j.resolve({ error: 'the host is stopping' });
    await Promise.all(
      this.slots.map(async (slot) => {
        const w = slot.worker;
        slot.worker = undefined;
        if (slot.current) {
          clearTimeout(slot.current.timer);
          slot.current.job.resolve({ error: 'the host is stopping' });
          slot.current = undefined;
        }
        if (!w) return;
        // appTerminate hooks run in the worker; bounded, then the thread is stopped regardless.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2000);
          w.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          w.on('message', (m: FromWorker) => m.kind === 'stopped' && void w.terminate());
          try {
            w.postMessage({ kind: 'stop' } satisfies ToWorker);
          } catch {
            resolve();
          }
        });
        await w.terminate();
      }),
    );
  }

  private spawn(slot: Slot): void {
    const generation = ++slot.generation;
    slot.ready = false;
    slot.forget = [];
    const init: WorkerInit = {
      appDir: this.opts.appDir,
      bindingConstants: this.opts.bindingConstants,
      logSuccess: this.opts.logSuccess,
    };
    const w = new Worker(path.join(__dirname, 'episode-worker.js'), {
      workerData: init,
      env: SHARE_ENV,
      // The thread must not keep the process alive on its own.
      stdout: false,
      stderr: false,
    });
    w.unref();
    slot.worker = w;
    const log = this.opts.log;
    w.on('message', (m: FromWorker) => {
      if (slot.generation !== generation) return;
      switch (m.kind) {
        case 'ready':
          slot.ready = true;
          this.pump();
          return;
        case 'loadFailed':
          slot.loadError = m.message;
          log.error(`durable: the app failed to load in an orchestrator worker thread: ${m.message}`);
          slot.ready = true;
          this.pump();
          return;
        case 'log':
          log[m.level](m.message);
          return;
        case 'result':
          this.finish(slot, m);
          return;
        case 'stopped':
          return;
      }
    });
    w.on('error', (err) => {
      if (slot.generation !== generation || this.stopped) return;
      log.error(`durable: an orchestrator worker thread failed: ${err?.stack ?? err}`);
    });
    w.on('exit', (code) => {
      if (slot.generation !== generation || this.stopped) return;
      // The app's code ended the thread (process.exit in a worker ends only the thread).
      this.lost(slot, `its worker thread exited (code ${code}) while the episode ran`);
    });
  }

  /** The worker is gone: fail its episode, drop what it held, start another. */
  private lost(slot: Slot, why: string): void {
    const cur = slot.current;
    slot.current = undefined;
    const w = slot.worker;
    slot.worker = undefined;
    for (const [id, h] of this.holder) if (h.slot === slot) this.holder.delete(id);
    if (cur) {
      clearTimeout(cur.timer);
      cur.job.resolve({ error: why });
    }
    slot.generation++;
    if (w) void w.terminate();
    if (!this.stopped) this.spawn(slot);
  }

  private finish(slot: Slot, m: Extract<FromWorker, { kind: 'result' }>): void {
    const cur = slot.current;
    if (!cur || cur.job.seq !== m.seq) return;
    clearTimeout(cur.timer);
    slot.current = undefined;
    if (m.resync) {
      this.holder.delete(cur.job.run.id);
      cur.job.full = true;
      this.queue.unshift(cur.job);
    } else {
      const state = m.state as any;
      let top: any[] = [];
      if (m.actionsFrom !== undefined && state && Array.isArray(state.actions?.[0])) {
        // The worker sent only the actions after the prefix it had sent before: put them back together.
        top = cur.top.slice(0, m.actionsFrom).concat(state.actions[0]);
        state.actions = [top];
      }
      if (cur.job.run.entityValue === undefined)
        this.holder.set(cur.job.run.id, { slot, length: cur.sent, replay: cur.job.run.replay, top });
      cur.job.resolve({ state, error: m.error });
    }
    this.pump();
  }

  private flushForget(slot: Slot): void {
    if (!slot.forget.length || !slot.worker) return;
    slot.worker.postMessage({ kind: 'forget', ids: slot.forget.splice(0) } satisfies ToWorker);
  }

  /** Hands queued episodes to free workers, preferring the worker that holds an instance's history. */
  private pump(): void {
    if (this.stopped) return;
    for (let i = 0; i < this.queue.length;) {
      const job = this.queue[i]!;
      const free = this.slots.filter((s) => s.ready && !s.current && s.worker);
      if (!free.length) return;
      let held = job.full || job.run.entityValue !== undefined ? undefined : this.holder.get(job.run.id);
      if (held && (held.replay !== job.run.replay || held.length > job.run.replay.length)) held = undefined;
      // An instance whose holder is busy waits for it unless another worker is free and the holder
      // has been busy for a while (a long or stuck episode must not hold other instances back).
      let slot = held && free.includes(held.slot) ? held.slot : undefined;
      if (!slot && held && held.slot.current && performance.now() - held.slot.current.started < 50) {
        i++;
        continue;
      }
      slot ??= free[0]!;
      this.queue.splice(i, 1);
      this.send(slot, job, held && held.slot === slot ? held.length : 0);
    }
  }

  private send(slot: Slot, job: Job, base: number): void {
    const run = job.run;
    if (slot.loadError) {
      job.resolve({ error: `the app failed to load in the orchestrator worker thread: ${slot.loadError}` });
      return;
    }
    if (run.entityValue !== undefined) {
      this.flushForget(slot);
      this.arm(slot, job);
      slot.worker!.postMessage({
        kind: 'invoke',
        seq: job.seq,
        name: run.name,
        value: run.entityValue,
      } satisfies ToWorker);
      return;
    }
    const prev = this.holder.get(run.id);
    if (prev && prev.slot !== slot) prev.slot.forget.push(run.id);
    this.holder.delete(run.id);
    this.flushForget(slot);
    const msg: ToWorker = {
      kind: 'episode',
      seq: job.seq,
      id: run.id,
      name: run.name,
      base,
      events: base === 0 ? run.replay : run.replay.slice(base),
      isReplaying: run.isReplaying,
      ...(base === 0 ? { input: run.input(), parentInstanceId: run.parentInstanceId } : {}),
    };
    this.arm(slot, job, base > 0 && prev?.slot === slot ? prev.top : []);
    slot.worker!.postMessage(msg);
  }

  /** Marks the job as running on the slot, with its deadline. */
  private arm(slot: Slot, job: Job, top: any[] = []): void {
    const timer = setTimeout(() => this.timedOut(slot, job), this.opts.timeoutMs);
    timer.unref();
    slot.current = { job, timer, sent: job.run.replay.length, started: performance.now(), top };
  }

  private timedOut(slot: Slot, job: Job): void {
    if (slot.current?.job !== job) return;
    const limit = span(this.opts.timeoutMs);
    if (job.run.entityValue !== undefined) {
      this.opts.log.error(
        `durable: a batch of entity '${job.run.id}' ran longer than ${limit}; its worker thread was stopped`,
      );
      this.lost(
        slot,
        `the entity function '${job.run.name}' ran longer than ${limit} (${this.opts.limitSource}) and was ` +
          `stopped: is there a synchronous loop in it?`,
      );
      return;
    }
    this.opts.log.error(
      `durable: an episode of orchestrator '${job.run.name}' (instance '${job.run.id}') ran longer than ` +
        `${limit}; its worker thread was stopped`,
    );
    this.lost(
      slot,
      `an episode ran longer than ${limit} (${this.opts.limitSource}) and was stopped. Orchestrator code ` +
        `must not block: is there a synchronous loop in '${job.run.name}'? Long work belongs in an activity.`,
    );
  }
}
