import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { OrchestrationContext } from 'durable-functions';
import type { JobFailureCode, JobResult } from '../../../lib/compute/job';
import {
  ABORT_ACTIVITY,
  ADVANCE_ACTIVITY,
  POLL_ACTIVITY,
  type AdvanceInput,
  type AdvanceOutput,
  type OrchestrationInput,
  type PollInput,
  type PollResult,
} from '../../../lib/runs/activity-contract';
import { runOrchestrator } from '../../../lib/runs/orchestrator';
import {
  ACTIVE,
  SUCCEEDED,
  TERMINAL,
  applyDelta,
  applyFailure,
  applySuccess,
  expandState,
  isFinished,
  readySteps,
  pendingDelta,
  runStatus,
  settle,
  setStep,
  type PlanState,
  type StepGraph,
} from '../../../lib/runs/plan';
import { nextBatches, stepVerdict, type BatchState } from '../../../lib/runs/parallel-plan';

/**
 * A model-based test of the run orchestration: the real orchestrator generator and the pure planner,
 * driven through random event sequences by a simulated durable context and a model of `runs-advance`
 * (dispatch: reuse, own job, follow another run's job, fail at dispatch; batch steps; claims and
 * waiters). It checks that every sequence ends within a bounded number of episodes, every step ends
 * final, no claim or waiter outlives its step, the stored record agrees with the plan, and a replay of
 * any prefix of the history reaches the same decisions.
 */

/** mulberry32: a small seeded PRNG, so a failing seed replays exactly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  steps: number;
  deps: number[][];
  batches: number[]; // 0 = a single-job step
  thresholds: number[];
  retries: number[];
  maxConcurrency: number;
  continueOnStepFailure: boolean;
  /** Every event arrives and no poll finds anything: the orchestration must never need the safety net. */
  reliable: boolean;
  /** Advances per generation (continueAsNew), or the default. */
  generation: number | undefined;
  seed: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 7 }).chain((n) =>
  fc.record({
    steps: fc.constant(n),
    deps: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        i === 0
          ? fc.constant([] as number[])
          : fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 3 }),
      ),
    ),
    batches: fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 4 })), {
      minLength: n,
      maxLength: n,
    }),
    thresholds: fc.array(fc.integer({ min: -1, max: 1 }), { minLength: n, maxLength: n }),
    retries: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
    maxConcurrency: fc.integer({ min: 1, max: 4 }),
    continueOnStepFailure: fc.boolean(),
    reliable: fc.boolean(),
    generation: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    seed: fc.integer(),
  }),
);

function graphOf(s: Scenario): StepGraph {
  const order = Array.from({ length: s.steps }, (_, i) => `s${i}`);
  const deps: Record<string, string[]> = {};
  const dependants: Record<string, string[]> = {};
  for (const n of order) dependants[n] = [];
  order.forEach((n, i) => {
    deps[n] = [...new Set(s.deps[i]!)].map((d) => `s${d}`);
    for (const d of deps[n]) dependants[d]!.push(n);
  });
  return { order, deps, dependants };
}

interface Yielded {
  kind: string;
  name?: string;
  input?: unknown;
  at?: number;
  tasks?: Yielded[];
  result?: unknown;
  isCompleted?: boolean;
  cancel(): void;
}

const FAILURES: JobFailureCode[] = ['exit-code', 'timeout', 'lost', 'platform', 'missing-output'];

function jobResult(jobId: string, ok: boolean, code: JobFailureCode = 'exit-code'): JobResult {
  return {
    jobId,
    state: ok ? 'succeeded' : 'failed',
    ...(ok ? {} : { failure: { code, message: code } }),
    outputs: ok ? [{ name: 'o', type: 'file', hash: `sha256:${jobId}`, size: 1 }] : [],
    metrics: [],
    finishedAt: '',
    agentId: 'sim',
  };
}

/** The world outside the orchestration: the store, claims, waiters and jobs, as `runs-advance` sees them. */
class World {
  claims = new Set<string>(); // steps holding a single-flight claim
  /**
   * Steps registered as followers, with the holder job each follows. Each follow is of a new holder job:
   * a holder that ended has released its claim, so a step dispatched again claims or follows another.
   * A holder's end removes the registrations that follow it (the store's `takeWaiters` by its key).
   */
  waiters = new Map<string, string>();
  private follows = 0;
  stored: PlanState | undefined;
  aborted = false;
  /** Events still to come: a job's completion, or a followed holder's outcome. */
  pending = new Set<string>();
  constructor(
    readonly sc: Scenario,
    readonly graph: StepGraph,
    readonly rand: () => number,
  ) {}

  /** The activity's copy of the plan (`plans` in engine.ts), lost now and then (another process). */
  private copy: { seq: number; state: PlanState } | undefined;

  advance(req: AdvanceInput): AdvanceOutput {
    if (this.rand() < 0.1) this.copy = undefined;
    // Like the activity: the copy is taken out while it is changed in place.
    const copy = this.copy;
    this.copy = undefined;
    if (!req.state && copy?.seq !== req.seq) return { needState: true };
    const initial = settle(
      req.state ? expandState(this.graph, req.state) : applyDelta(copy!.state, req.changes),
    );
    for (const o of req.observations) if (!o.followed) this.claims.delete(o.step);
    for (const e of req.ended ?? [])
      if (e.role === 'holder') this.claims.delete(e.step);
      else this.waiters.delete(e.step);
    let state = initial;
    let ready = req.dispatch;
    while (ready.length) {
      for (const step of ready) state = this.dispatch(state, step, req.now);
      ready = readySteps(this.graph, state, this.sc.maxConcurrency, req.now);
    }
    // The stored record is a snapshot: the copy goes on changing in later calls.
    this.stored = structuredClone(state);
    const delta = pendingDelta(state);
    this.copy = { seq: req.seq + 1, state: settle(state) };
    return { delta, finished: isFinished(state) };
  }

  private dispatch(state: PlanState, step: string, now: number): PlanState {
    const i = Number(step.slice(1));
    const s = state.steps[step]!;
    if (s.batches) return this.continueBatches(state, step, now);
    if (s.status !== 'NotStarted') return state;
    for (const d of this.graph.deps[step]!)
      assert.ok(
        SUCCEEDED.has(state.steps[d]!.status),
        `${step} dispatched before its dependency ${d} succeeded`,
      );
    assert.ok(!state.halted, `${step} dispatched after the run halted`);
    assert.ok(s.retryAt === undefined || s.retryAt <= now, `${step} dispatched before its back-off ended`);
    const r = this.rand();
    if (r < 0.15) return applySuccess(state, step, 'Reused', { o: { type: 'file', hash: 'sha256:r' } });
    if (r < 0.3) {
      const holder = `${step}.x${this.follows++}`;
      this.waiters.set(step, holder);
      this.pending.add(`follow:other:${holder}`);
      return setStep(state, step, {
        status: 'Queued',
        attempt: s.attempt,
        follow: { runId: 'other', jobId: holder, step },
      });
    }
    if (r < 0.36) {
      // Fails at dispatch (e.g. its input is gone): no claim was taken.
      const eff = applyFailure(
        this.graph,
        setStep(state, step, { ...s, status: 'Queued', attempt: s.attempt + 1 }),
        step,
        { code: 'missing-input', message: 'gone' },
        { retries: 0, continueOnStepFailure: this.sc.continueOnStepFailure, now },
      );
      for (const e of eff.ended) (eff.was[e]!.follow ? this.waiters : this.claims).delete(e);
      return eff.state;
    }
    this.claims.add(step);
    const attempt = s.attempt + 1;
    const n = this.sc.batches[i]!;
    if (!n) {
      this.pending.add(`job:${step}.${attempt}`);
      return setStep(state, step, { status: 'Queued', attempt, jobId: `${step}.${attempt}` });
    }
    const batches: BatchState[] = Array.from({ length: n }, () => ({ status: 'NotStarted', attempt: 0 }));
    return this.continueBatches(
      setStep(state, step, { status: 'Running', attempt, batches, batchSlots: 2 }),
      step,
      now,
    );
  }

  private continueBatches(state: PlanState, step: string, now: number): PlanState {
    const s = state.steps[step]!;
    if (!ACTIVE.has(s.status)) return state;
    const i = Number(step.slice(1));
    const verdict = stepVerdict(s.batches!, this.sc.thresholds[i]!);
    if (!verdict.done) {
      const batches = s.batches!.slice();
      for (const b of nextBatches(batches, s.batchSlots ?? 2, now)) {
        batches[b] = { status: 'Running', attempt: batches[b]!.attempt + 1 };
        this.pending.add(`job:${step}.b${b}.${batches[b]!.attempt}`);
      }
      return setStep(state, step, { ...s, batches });
    }
    this.claims.delete(step);
    if (verdict.ok) return applySuccess(state, step, 'Completed', { o: { type: 'file', hash: 'sha256:g' } });
    const eff = applyFailure(
      this.graph,
      state,
      step,
      { code: 'exit-code', message: 'batches' },
      {
        retries: 0,
        continueOnStepFailure: this.sc.continueOnStepFailure,
        now,
      },
    );
    for (const e of eff.ended) (eff.was[e]!.follow ? this.waiters : this.claims).delete(e);
    return eff.state;
  }

  /** The poll finds a job's row finished (its event may still come, or may have been lost). */
  poll(req: PollInput): PollResult[] {
    const out: PollResult[] = [];
    for (const j of req.jobs) {
      if (this.sc.reliable || this.rand() < 0.6) continue;
      const name = j.follow ? `follow:${j.runId}:${j.jobId}` : `job:${j.jobId}`;
      if (this.rand() < 0.5) this.pending.delete(name); // the event was lost
      if (j.follow) {
        // The holder ended: it told (and removed) the registrations that follow it.
        if (this.waiters.get(j.step) === j.jobId) this.waiters.delete(j.step);
        if (this.rand() < 0.5)
          out.push({ step: j.step, jobId: j.jobId, result: jobResult(j.jobId, true), followed: j.follow });
        else out.push({ step: j.step, jobId: j.jobId, followFailed: true });
      } else out.push({ step: j.step, jobId: j.jobId, result: this.outcome(j.jobId) });
    }
    return out;
  }

  /** The payload of an event: a job's result, or a followed holder's (its waiters are told and removed). */
  eventResult(name: string): JobResult {
    const jobId = name.slice(name.lastIndexOf(':') + 1);
    if (name.startsWith('follow:')) {
      const step = jobId.slice(0, jobId.indexOf('.'));
      if (this.waiters.get(step) === jobId) this.waiters.delete(step);
      return this.rand() < 0.5 ? jobResult(jobId, true) : jobResult(jobId, false, 'platform');
    }
    return this.outcome(jobId);
  }

  outcome(jobId: string): JobResult {
    const r = this.rand();
    return r < 0.65
      ? jobResult(jobId, true)
      : jobResult(jobId, false, FAILURES[Math.floor(this.rand() * FAILURES.length)]!);
  }
}

/**
 * The durable side as the library behaves: an event goes to the newest open task waiting for its name
 * (LIFO), or is buffered until a task waits for it; a `Task.any` wakes only when a child completes after
 * it was yielded. Events may arrive while an activity runs. `now` counts reads, so an orchestrator that
 * loops without yielding fails instead of hanging the test.
 */
class Durable {
  open = new Map<string, Yielded[]>();
  buffered = new Map<string, unknown[]>();
  continued: OrchestrationInput | undefined;
  constructor(
    readonly input: OrchestrationInput,
    readonly clock: { now: number; reads: number },
  ) {}

  raise(name: string, result: unknown): void {
    const list = this.open.get(name);
    const t = list?.pop();
    if (list && !list.length) this.open.delete(name);
    if (t) {
      t.isCompleted = true;
      t.result = result;
    } else this.buffered.set(name, [...(this.buffered.get(name) ?? []), result]);
  }

  context(): OrchestrationContext {
    const clock = this.clock;
    const task = (t: Omit<Yielded, 'cancel'>): Yielded => ({ ...t, cancel() {} });
    const df = {
      getInput: () => this.input,
      get currentUtcDateTime() {
        if (++clock.reads > 10_000)
          throw new Error('the orchestrator read the clock 10,000 times without yielding');
        return new Date(clock.now);
      },
      callActivity: (name: string, i: unknown) => task({ kind: 'activity', name, input: i }),
      callActivityWithRetry: (name: string, _r: unknown, i: unknown) =>
        task({ kind: 'activity', name, input: i }),
      waitForExternalEvent: (name: string) => {
        const t = task({ kind: 'event', name });
        const waiting = this.buffered.get(name);
        if (waiting?.length) {
          t.isCompleted = true;
          t.result = waiting.shift();
        } else this.open.set(name, [...(this.open.get(name) ?? []), t]);
        return t;
      },
      createTimer: (d: Date) => task({ kind: 'timer', at: d.getTime() }),
      Task: { any: (tasks: Yielded[]) => task({ kind: 'any', tasks }) },
      continueAsNew: (next: OrchestrationInput) => {
        this.continued = JSON.parse(JSON.stringify(next)) as OrchestrationInput;
      },
    };
    return { df } as unknown as OrchestrationContext;
  }
}

/** What one yield asked for, comparable across replays. */
const describe = (y: Yielded): string =>
  JSON.stringify({
    k: y.kind,
    n: y.name,
    i: y.input,
    a: y.at,
    t: y.tasks?.map((t) => [t.kind, t.name, t.at]),
  });

/** What happened at one yield, so a replay can feed the same. */
interface Step {
  now: number;
  /** Events raised before the answer (while the activity ran, or while the orchestration waited). */
  raised: Array<[string, unknown]>;
  /** Activity result, or for an `any` the index of the child that woke it. */
  value?: unknown;
  woke?: number;
}

interface Generation {
  input: OrchestrationInput;
  /** The clock when it started. */
  start: number;
  asked: string[];
  steps: Step[];
}

function simulate(sc: Scenario): void {
  const graph = graphOf(sc);
  const input: OrchestrationInput = {
    runId: 'r',
    graph,
    maxConcurrency: sc.maxConcurrency,
    continueOnStepFailure: sc.continueOnStepFailure,
    retries: Object.fromEntries(graph.order.map((n, i) => [n, sc.retries[i]!])),
    ...(sc.generation ? { generationAdvances: sc.generation } : {}),
  };
  const rand = rng(sc.seed);
  const world = new World(sc, graph, rand);
  const clock = { now: 1_000_000, reads: 0 };
  let attempts = 0;
  graph.order.forEach(
    (_, i) => (attempts += (sc.retries[i]! + 1) * Math.max(1, sc.batches[i]! * (sc.retries[i]! + 1))),
  );
  const bound = 80 * attempts + 80;
  let canceled = false;
  let yields = 0;
  const generations: Generation[] = [];
  let durable = new Durable(input, clock);
  /** Raises one pending job's (or followed holder's) event with its outcome. */
  const raiseOne = (st: Step): boolean => {
    const names = [...world.pending];
    if (!names.length) return false;
    const name = names[Math.floor(rand() * names.length)]!;
    world.pending.delete(name);
    const result = world.eventResult(name);
    st.raised.push([name, result]);
    durable.raise(name, result);
    return true;
  };
  let result: unknown;
  for (;;) {
    const g: Generation = { input: durable.input, start: clock.now, asked: [], steps: [] };
    generations.push(g);
    const gen = runOrchestrator(durable.context());
    let next = gen.next();
    while (!next.done) {
      assert.ok(++yields < bound, `the run did not end within ${bound} episodes`);
      clock.reads = 0;
      const y = next.value as unknown as Yielded;
      g.asked.push(describe(y));
      const st: Step = { now: clock.now, raised: [] };
      if (y.kind === 'activity') {
        if (y.name === ADVANCE_ACTIVITY) st.value = world.advance(y.input as AdvanceInput);
        else if (y.name === POLL_ACTIVITY) st.value = world.poll(y.input as PollInput);
        else if (y.name === ABORT_ACTIVITY) world.aborted = true;
        // Jobs finish, and runs are canceled, while activities run too.
        while (rand() < 0.3 && raiseOne(st));
        if (!canceled && rand() < 0.02) {
          canceled = true;
          st.raised.push(['cancel', {}]);
          durable.raise('cancel', {});
        }
      } else {
        assert.equal(y.kind, 'any');
        const timer = y.tasks![1]!;
        for (let guard = 0; !y.tasks!.some((t) => t.isCompleted) && guard < 100; guard++) {
          const r = rand();
          if (!canceled && r < 0.03) {
            canceled = true;
            st.raised.push(['cancel', {}]);
            durable.raise('cancel', {});
          } else if (r < 0.2 || !raiseOne(st)) {
            timer.isCompleted = true;
            clock.now = Math.max(clock.now, timer.at!);
          }
          // Completions often arrive together.
          while (rand() < 0.3 && raiseOne(st));
        }
        st.woke = y.tasks!.findIndex((t) => t.isCompleted);
        assert.ok(st.woke >= 0, 'the wait woke');
        if (st.woke !== 1) clock.now += 1 + Math.floor(rand() * 500);
        st.now = clock.now;
      }
      g.steps.push(st);
      next = gen.next((st.woke !== undefined ? y.tasks![st.woke] : st.value) as never);
    }
    if (durable.continued === undefined) {
      result = next.value;
      break;
    }
    // A new generation: events not raised yet go to it (those already in the old history are gone).
    durable = new Durable(durable.continued, clock);
  }

  assert.equal(world.aborted, false, 'no activity failed, so the run must not abort');
  const stored = world.stored!;
  for (const n of graph.order)
    assert.ok(TERMINAL.has(stored.steps[n]!.status), `${n} ended ${stored.steps[n]!.status}`);
  assert.equal(result, runStatus(stored), 'the orchestration returns the status the stored record says');
  assert.deepEqual([...world.claims], [], 'no claim outlives its step');
  assert.deepEqual([...world.waiters.keys()], [], 'no waiter outlives its step');
  for (const n of graph.order) {
    const s = stored.steps[n]!;
    if (s.batches && (s.status === 'Completed' || s.status === 'Failed'))
      assert.ok(
        s.batches.every((b) => b.status !== 'Running'),
        `${n}: no batch left running`,
      );
  }
  if (sc.generation) assert.ok(generations.length >= 1);

  // Replay: a fresh generator of any generation, fed the same history up to any prefix, asks for the same.
  const g = generations[Math.floor(rand() * generations.length)]!;
  const k = Math.floor(rand() * (g.asked.length + 1));
  const clock2 = { now: g.start, reads: 0 };
  const durable2 = new Durable(g.input, clock2);
  const again = runOrchestrator(durable2.context());
  let r = again.next();
  for (let i = 0; i < k; i++) {
    assert.equal(describe(r.value as unknown as Yielded), g.asked[i], `replay diverged at yield ${i}`);
    clock2.reads = 0;
    const y = r.value as unknown as Yielded;
    const st = g.steps[i]!;
    for (const [name, res] of st.raised) durable2.raise(name, res);
    if (st.woke === 1) y.tasks![1]!.isCompleted = true;
    clock2.now = st.now;
    r = again.next((st.woke !== undefined ? y.tasks![st.woke] : st.value) as never);
  }
  if (k < g.asked.length)
    assert.equal(describe(r.value as unknown as Yielded), g.asked[k], `replay diverged at yield ${k}`);
}

test('random event sequences: every run ends, every step ends final, no claim or waiter outlives its step, replays agree', () => {
  fc.assert(
    fc.property(scenario, (sc) => simulate(sc)),
    {
      numRuns: Number(process.env.SLUICE_MODEL_RUNS ?? 3000),
      ...(process.env.SLUICE_MODEL_SEED ? { seed: Number(process.env.SLUICE_MODEL_SEED) } : {}),
    },
  );
});

test('a cancel while the only active step follows another run ends the run (the hang of issue 9)', () => {
  // s0 follows another run's job; the run is canceled: nothing to stop, yet the run must end Canceled.
  const sc: Scenario = {
    steps: 1,
    deps: [[]],
    batches: [0],
    thresholds: [-1],
    retries: [0],
    maxConcurrency: 1,
    continueOnStepFailure: false,
    reliable: true,
    generation: undefined,
    seed: 1,
  };
  const graph = graphOf(sc);
  const input: OrchestrationInput = {
    runId: 'r',
    graph,
    maxConcurrency: 1,
    continueOnStepFailure: false,
    retries: { s0: 0 },
  };
  const durable = new Durable(input, { now: 0, reads: 0 });
  const gen = runOrchestrator(durable.context());
  gen.next();
  const wait = gen.next({
    delta: {
      steps: { s0: { status: 'Queued', attempt: 0, follow: { runId: 'o', jobId: 's0.1', step: 's0' } } },
    },
    finished: false,
  } satisfies AdvanceOutput as never).value as unknown as Yielded;
  assert.equal(wait.kind, 'any');
  durable.raise('cancel', {});
  const last = gen.next(wait.tasks![0] as never).value as unknown as Yielded;
  assert.equal(last.name, ADVANCE_ACTIVITY, 'the cancel is persisted by an advance, not spun on');
  const req = last.input as AdvanceInput;
  assert.deepEqual(req.ended, [{ step: 's0', role: 'follower' }], 'the follower drops its waiter');
  assert.equal(req.changes.steps.s0!.status, 'Canceled');
  assert.deepEqual(gen.next({ delta: { steps: {} }, finished: true } as never), {
    done: true,
    value: 'Canceled',
  });
});

export { simulate };
