import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyCancel,
  applyDelta,
  applyFailure,
  applySuccess,
  buildGraph,
  compactState,
  dueBatchRetries,
  expandState,
  failureDecision,
  initialState,
  isFinished,
  nextRetryAt,
  readySteps,
  pollDelayMs,
  retryBackoffMs,
  pendingDelta,
  runStatus,
  settle,
  setStep,
  type PlanState,
} from '../../../lib/runs/plan';
import type { PipelineDefinition } from '../../../lib/pipelines/schema';
import { failureFor } from '../../../lib/compute/failures';

const step = (inputs: Record<string, string> = {}, after?: string[]) =>
  ({
    kind: 'command',
    command: 'true',
    inputs,
    outputs: { o: { type: 'file' } },
    reuse: true,
    retries: 0,
    after,
  }) as never;

/** a → (b, c) → d, plus e independent. */
const diamond = {
  steps: {
    a: step(),
    b: step({ x: '${{steps.a.outputs.o}}' }),
    c: step({}, ['a']),
    d: step({ l: '${{steps.b.outputs.o}}', r: '${{steps.c.outputs.o}}' }),
    e: step(),
  },
} as unknown as PipelineDefinition;
const out = { o: { type: 'file' as const, hash: 'sha256:1' } };

describe('run planning', () => {
  test('the graph has data and order-only edges', () => {
    const g = buildGraph(diamond);
    assert.deepEqual(g.deps.d, ['b', 'c']);
    assert.deepEqual(g.deps.c, ['a']);
    assert.deepEqual(g.dependants.a, ['b', 'c']);
  });

  test('a step is ready as soon as its own dependencies succeeded (no level barrier)', () => {
    const g = buildGraph(diamond);
    let s = initialState(g);
    assert.deepEqual(readySteps(g, s, 8, 0), ['a', 'e']);
    s = setStep(s, 'a', { ...s.steps.a!, status: 'Queued' });
    s = setStep(s, 'e', { ...s.steps.e!, status: 'Queued' });
    s = applySuccess(s, 'a', 'Completed', out);
    assert.deepEqual(readySteps(g, s, 8, 0), ['b', 'c']);
    s = setStep(s, 'b', { ...s.steps.b!, status: 'Queued' });
    s = setStep(s, 'c', { ...s.steps.c!, status: 'Queued' });
    s = applySuccess(s, 'b', 'Completed', out);
    assert.deepEqual(readySteps(g, s, 8, 0), [], 'd waits for c, while e still runs');
    s = applySuccess(s, 'c', 'Reused', out);
    assert.deepEqual(readySteps(g, s, 8, 0), ['d']);
  });

  test('maxConcurrency bounds active steps', () => {
    const g = buildGraph(diamond);
    let s = initialState(g);
    assert.deepEqual(readySteps(g, s, 1, 0), ['a']);
    s = setStep(s, 'a', { ...s.steps.a!, status: 'Running' });
    assert.deepEqual(readySteps(g, s, 1, 0), []);
  });

  test('by default a failure cancels running steps and skips everything not started', () => {
    const g = buildGraph(diamond);
    let s = initialState(g);
    s = applySuccess(s, 'a', 'Completed', out);
    s = setStep(s, 'b', { ...s.steps.b!, status: 'Queued', attempt: 1 });
    s = setStep(s, 'c', { ...s.steps.c!, status: 'Running', jobId: 'j-c' });
    s = setStep(s, 'e', { ...s.steps.e!, status: 'Running', jobId: 'j-e' });
    const eff = applyFailure(
      g,
      s,
      'b',
      { code: 'exit-code', message: 'exit 1' },
      { retries: 0, continueOnStepFailure: false, now: 0 },
    );
    assert.equal(eff.retrying, false);
    assert.deepEqual(eff.cancel.sort(), ['c', 'e']);
    assert.equal(eff.state.steps.b!.status, 'Failed');
    assert.equal(eff.state.steps.d!.status, 'Skipped');
    assert.equal(eff.state.steps.c!.status, 'Canceled');
    assert.ok(isFinished(eff.state));
    assert.equal(runStatus(eff.state), 'Failed');
    assert.deepEqual(readySteps(g, eff.state, 8, 0), []);
  });

  test('with continueOnStepFailure only the failed branch is skipped', () => {
    const g = buildGraph(diamond);
    let s = initialState(g);
    s = applySuccess(s, 'a', 'Completed', out);
    s = setStep(s, 'b', { ...s.steps.b!, status: 'Queued', attempt: 1 });
    const eff = applyFailure(
      g,
      s,
      'b',
      { code: 'timeout', message: 'slow' },
      { retries: 0, continueOnStepFailure: true, now: 0 },
    );
    assert.deepEqual(eff.cancel, []);
    assert.equal(eff.state.steps.d!.status, 'Skipped');
    assert.deepEqual(readySteps(g, eff.state, 8, 0), ['c', 'e']);
    let t = applySuccess(eff.state, 'c', 'Completed', out);
    t = applySuccess(t, 'e', 'Completed', out);
    assert.equal(runStatus(t), 'Failed');
  });

  test('a retryable failure with attempts left waits for its back-off, then is ready again', () => {
    const g = buildGraph(diamond);
    let s = initialState(g);
    s = setStep(s, 'a', { ...s.steps.a!, status: 'Queued', attempt: 1 });
    const eff = applyFailure(
      g,
      s,
      'a',
      { code: 'lost', message: 'agent silent' },
      { retries: 1, continueOnStepFailure: false, now: 1000 },
    );
    assert.equal(eff.retrying, true);
    assert.equal(eff.state.steps.a!.retryAt, 1000 + retryBackoffMs(1));
    assert.deepEqual(readySteps(g, eff.state, 8, 1000), ['e']);
    assert.deepEqual(readySteps(g, eff.state, 8, 1000 + retryBackoffMs(1)), ['a', 'e']);
    const second = {
      ...eff.state,
      steps: { ...eff.state.steps, a: { ...eff.state.steps.a!, status: 'Queued' as const, attempt: 2 } },
    };
    const final = applyFailure(
      g,
      second,
      'a',
      { code: 'lost', message: 'again' },
      { retries: 1, continueOnStepFailure: false, now: 5000 },
    );
    assert.equal(final.retrying, false);
    assert.equal(final.state.steps.a!.status, 'Failed');
  });

  test('failure codes map to retry decisions in one place', () => {
    assert.deepEqual(failureDecision('exit-code'), { retryable: true, status: 'Failed' });
    assert.deepEqual(failureDecision('missing-input'), { retryable: false, status: 'Failed' });
    assert.deepEqual(failureDecision('missing-output'), { retryable: false, status: 'Failed' });
    assert.deepEqual(failureDecision('canceled'), { retryable: false, status: 'Canceled' });
    assert.deepEqual(
      [1, 2, 3, 10].map((a) => retryBackoffMs(a)),
      [2000, 4000, 8000, 60000],
    );
  });

  test('a command that exits 0 without its declared output fails as missing-output and is not retried', () => {
    const failure = failureFor({ kind: 'missing-output', message: 'output "model" (file) was not written' })!;
    assert.equal(failure.code, 'missing-output');
    assert.match(failure.message, /output "model"/);
    const g = buildGraph(diamond);
    const s = initialState(g);
    s.steps.a = { status: 'Running', attempt: 1, jobId: 'a.1' };
    const eff = applyFailure(g, s, 'a', failure, { retries: 3, continueOnStepFailure: false, now: 0 });
    assert.equal(eff.retrying, false);
    assert.equal(eff.state.steps.a!.status, 'Failed');
    assert.equal(eff.state.steps.a!.failure?.code, 'missing-output');
    assert.equal(eff.state.steps.e!.status, 'Skipped');
  });

  test('cancel marks active steps Canceled and the run Canceled', () => {
    const g = buildGraph(diamond);
    let s = initialState(g);
    s = setStep(s, 'a', { ...s.steps.a!, status: 'Running', jobId: 'j' });
    const c = applyCancel(g, s);
    assert.deepEqual(c.cancel, ['a']);
    assert.equal(runStatus(c.state), 'Canceled');
    assert.equal(c.state.steps.e!.status, 'Skipped');
  });

  test('state crosses the activity boundary compactly and comes back as a delta', () => {
    const g = buildGraph(diamond);
    const before = applySuccess(initialState(g), 'a', 'Completed', out);
    const compact = compactState(before);
    assert.deepEqual(Object.keys(compact.steps), ['a']);
    // The other side: the same plan, rebuilt from the compact form.
    const theirs = expandState(g, compact);
    assert.deepEqual(theirs, before);
    settle(before);
    const after = applyCancel(g, before).state;
    const delta = pendingDelta(after);
    assert.deepEqual(Object.keys(delta.steps).sort(), ['b', 'c', 'd', 'e']);
    assert.equal(delta.halted, 'canceled');
    assert.deepEqual(applyDelta(theirs, delta), after);
  });

  test('a delta names only what changed since the last settle, and nothing a change undid', () => {
    const g = buildGraph(diamond);
    const s = settle(applySuccess(initialState(g), 'a', 'Completed', out));
    assert.deepEqual(pendingDelta(s), { steps: {} });
    const a = s.steps.a!;
    applySuccess(s, 'b', 'Completed', out);
    applySuccess(s, 'a', 'Reused', out);
    applySuccess(s, 'a', 'Completed', a.outputs!);
    assert.deepEqual(Object.keys(pendingDelta(s).steps), ['b']);
    settle(s);
    assert.deepEqual(pendingDelta(s), { steps: {} });
  });

  test('the index agrees with a full pass after any sequence of changes', () => {
    // The ready frontier and the counts are kept per change; a fresh copy builds them in one pass.
    const g = buildGraph(diamond);
    let s = initialState(g);
    const fresh = (): PlanState => structuredClone(s);
    const check = (): void => {
      for (const n of [1, 2, 8])
        assert.deepEqual(readySteps(g, s, n, 10), readySteps(g, fresh(), n, 10), `readySteps at ${n}`);
      assert.equal(isFinished(s), isFinished(fresh()));
      assert.equal(runStatus(s), runStatus(fresh()));
      assert.equal(nextRetryAt(s), nextRetryAt(fresh()));
    };
    check();
    s = applySuccess(s, 'a', 'Completed', out);
    check();
    s = applyFailure(
      g,
      s,
      'b',
      { code: 'exit-code', message: 'x' },
      { retries: 1, continueOnStepFailure: true, now: 0 },
    ).state;
    check();
    s = applySuccess(s, 'c', 'Completed', out);
    check();
    s = applyFailure(
      g,
      s,
      'b',
      { code: 'exit-code', message: 'x' },
      { retries: 0, continueOnStepFailure: true, now: 0 },
    ).state;
    check();
    s = applyCancel(g, s).state;
    check();
  });
});

describe('mini-batch retries in the run plan', () => {
  const graph = buildGraph(diamond);
  const withBatches = (batches: PlanState['steps'][string]['batches'], batchSlots = 4): PlanState => {
    const state = initialState(graph);
    state.steps.a = { status: 'Running', attempt: 1, batches, batchSlots };
    return state;
  };

  test('a failed batch waiting for its back-off sets the orchestrator timer and is due at that time', () => {
    const state = withBatches([
      { status: 'Succeeded', attempt: 1 },
      { status: 'Failed', attempt: 1, retryAt: 7000 },
    ]);
    assert.equal(nextRetryAt(state), 7000);
    assert.deepEqual(dueBatchRetries(state, 6999), []);
    assert.deepEqual(dueBatchRetries(state, 7000), ['a']);
    assert.equal(nextRetryAt({ ...state, halted: 'canceled' }), undefined, 'a halted run retries nothing');
  });

  test('with every slot taken the orchestrator does not wake for a due retry: the next batch end starts it', () => {
    const state = withBatches(
      [
        { status: 'Running', attempt: 1 },
        { status: 'Failed', attempt: 1, retryAt: 10 },
      ],
      1,
    );
    assert.equal(nextRetryAt(state), undefined);
    assert.deepEqual(dueBatchRetries(state, 1e9), []);
  });
});

test('the safety-net poll backs off to 10 s, and to a minute once a step has been quiet for about five minutes', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((n) => pollDelayMs(n)),
    [2000, 4000, 8000, 10_000, 10_000],
  );
  let quiet = 0;
  let n = 0;
  while (pollDelayMs(n) < 60_000) quiet += pollDelayMs(n++);
  assert.ok(quiet >= 4 * 60_000 && quiet <= 6 * 60_000, `slows down after ${quiet} ms`);
  // A day-long step: a few thousand history events at most, not tens of thousands.
  let polls = n;
  for (let t = quiet; t < 86_400_000; t += pollDelayMs(polls)) polls++;
  assert.ok(polls < 1500, `${polls} polls in a day`);
});
