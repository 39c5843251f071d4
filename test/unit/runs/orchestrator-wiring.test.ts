import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrchestrationContext } from 'durable-functions';
import type { AdvanceInput, OrchestrationInput } from '../../../lib/runs/engine';
import { ADVANCE_ACTIVITY, POLL_ACTIVITY, runOrchestrator } from '../../../lib/runs/orchestrator';
import { buildGraph } from '../../../lib/runs/plan';
import type { PipelineDefinition } from '../../../lib/pipelines/schema';

/** A stand-in for the durable context: every API returns a plain task object the test inspects. */
interface FakeTask {
  kind: 'activity' | 'event' | 'timer' | 'any';
  name?: string;
  input?: any;
  at?: number;
  tasks?: FakeTask[];
  result?: unknown;
  isCompleted?: boolean;
  cancel(): void;
}

function fakeContext(input: OrchestrationInput, now: number): OrchestrationContext {
  const task = (t: Omit<FakeTask, 'cancel'>): FakeTask => ({ ...t, cancel() {} });
  const df = {
    getInput: () => input,
    currentUtcDateTime: new Date(now),
    callActivity: (name: string, i: unknown) => task({ kind: 'activity', name, input: i }),
    callActivityWithRetry: (name: string, _r: unknown, i: unknown) =>
      task({ kind: 'activity', name, input: i }),
    waitForExternalEvent: (name: string) => task({ kind: 'event', name }),
    createTimer: (d: Date) => task({ kind: 'timer', at: d.getTime() }),
    Task: { any: (tasks: FakeTask[]) => task({ kind: 'any', tasks }) },
  };
  return { df } as unknown as OrchestrationContext;
}

const step = (inputs: Record<string, string> = {}) =>
  ({ kind: 'command', command: 'true', inputs, outputs: { o: { type: 'file' } } }) as never;
const def = {
  steps: { a: step(), b: step({ x: '${{steps.a.outputs.o}}' }), c: step({ x: '${{steps.a.outputs.o}}' }) },
} as unknown as PipelineDefinition;

describe('the run orchestration', () => {
  test('dispatches ready steps, waits for their events with a timer, and dispatches dependants on success', () => {
    const input: OrchestrationInput = {
      runId: 'r',
      graph: buildGraph(def),
      maxConcurrency: 8,
      continueOnStepFailure: false,
      retries: {},
    };
    const gen = runOrchestrator(fakeContext(input, 1_000_000));

    let y = gen.next().value as unknown as FakeTask;
    assert.equal(y.name, ADVANCE_ACTIVITY);
    const first = y.input as AdvanceInput;
    assert.deepEqual(first.dispatch, ['a']);
    assert.equal(first.starting, true);

    y = gen.next({
      delta: { steps: { a: { status: 'Queued', attempt: 1, jobId: 'a.1', pool: 'local' } } },
      finished: false,
    }).value as unknown as FakeTask;
    assert.equal(y.kind, 'any');
    assert.deepEqual(
      y.tasks!.map((t) => t.name ?? t.kind),
      ['cancel', 'timer', 'job:a.1'],
    );
    assert.equal(y.tasks![1]!.at, 1_000_000 + 2000, 'the first poll is 2 s away');

    const event = y.tasks![2]!;
    event.isCompleted = true;
    event.result = {
      jobId: 'a.1',
      state: 'succeeded',
      outputs: [{ name: 'o', type: 'file', hash: 'sha256:1', size: 1 }],
      metrics: [],
      finishedAt: '',
      agentId: 'x',
    };
    y = gen.next(event).value as unknown as FakeTask;
    assert.equal(y.name, ADVANCE_ACTIVITY);
    const second = y.input as AdvanceInput;
    assert.deepEqual(second.dispatch, ['b', 'c'], 'both dependants at once, no level barrier');
    assert.deepEqual(
      second.observations.map((o) => o.step),
      ['a'],
    );
    assert.equal(second.changes.steps.a!.status, 'Completed', 'only what changed crosses over');
    assert.equal(second.state, undefined, 'the activity holds the rest');

    y = gen.next({
      delta: {
        steps: {
          b: { status: 'Queued', attempt: 1, jobId: 'b.1' },
          c: { status: 'Queued', attempt: 1, jobId: 'c.1' },
        },
      },
      finished: false,
    }).value as unknown as FakeTask;
    const timer = y.tasks![1]!;
    timer.isCompleted = true;
    y = gen.next(timer).value as unknown as FakeTask;
    assert.equal(y.name, POLL_ACTIVITY, 'the timer polls the job rows');
    assert.deepEqual(
      y.input.jobs.map((j: { jobId: string }) => j.jobId),
      ['b.1', 'c.1'],
    );
  });

  test('a cancel event cancels active jobs and finishes through one advance', () => {
    const input: OrchestrationInput = {
      runId: 'r',
      graph: buildGraph(def),
      maxConcurrency: 8,
      continueOnStepFailure: false,
      retries: {},
    };
    const gen = runOrchestrator(fakeContext(input, 0));
    gen.next();
    const y = gen.next({
      delta: { steps: { a: { status: 'Queued', attempt: 1, jobId: 'a.1' } } },
      finished: false,
    }).value as unknown as FakeTask;
    y.tasks![0]!.isCompleted = true;
    const last = gen.next(y.tasks![0]).value as unknown as FakeTask;
    assert.equal(last.name, ADVANCE_ACTIVITY);
    assert.deepEqual(last.input.cancel, [{ step: 'a', jobId: 'a.1' }]);
    assert.equal(last.input.changes.halted, 'canceled');
    const end = gen.next({ delta: { steps: {} }, finished: true });
    assert.deepEqual(end, { done: true, value: 'Canceled' });
  });
});
