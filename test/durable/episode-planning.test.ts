/**
 * Behaviour (pure unit): the episode planner numbers events exactly like durable-functions' executor —
 * new leaves in yield order, WhenAll/WhenAny expanded depth-first, the retry saga's timer and next attempt
 * after the new leaves — detects replays that no longer match the history, rejects unsupported actions,
 * and rebuilds the same state from stored events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Act, Ev, HTTP_ACTIVITY, retryDelayMs, type HistoryEvent } from '../../lib/durable/history';
import { planEpisode, type PlanInput } from '../../lib/durable/episode';
import { applyEvent, isSagaTrigger, newExecState } from '../../lib/durable/exec-state';

const base = (over: Partial<PlanInput>): PlanInput => ({
  instanceId: 'test-instance',
  actions: [[]],
  isDone: false,
  nowMs: Date.parse('2026-01-01T00:00:00Z'),
  orchestratorName: 'Orch',
  executionId: 'exec1',
  ...over,
});
const call = (name: string, input?: unknown) => ({ actionType: Act.CallActivity, functionName: name, input });
const retry = (name: string, max: number) => ({
  actionType: Act.CallActivityWithRetry,
  functionName: name,
  input: '"x"',
  retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: max, backoffCoefficient: 2 },
});

test('leaves are numbered in order, compound actions depth-first, waits and continueAsNew take no id', () => {
  const s = newExecState();
  const p1 = planEpisode(s, base({ actions: [[call('A', '"x"')]] }));
  assert.deepEqual(
    p1.events.map((e) => [e.EventType, e.EventId, e.Name, e.Input]),
    [[Ev.TaskScheduled, 0, 'A', '"x"']],
  );
  const episode2 = [
    call('A', '"x"'),
    { actionType: Act.WhenAll, compoundActions: [call('B', { n: 1 }), call('C', 2)] },
    { actionType: Act.WaitForExternalEvent, externalEventName: 'Go', reason: 'ExternalEvent' },
    { actionType: Act.CreateTimer, fireAt: new Date('2026-01-01T00:01:00Z'), isCanceled: false },
  ];
  const p2 = planEpisode(s, base({ actions: [episode2] }));
  assert.deepEqual(
    p2.events.map((e) => [e.EventType, e.EventId]),
    [
      [Ev.TaskScheduled, 1],
      [Ev.TaskScheduled, 2],
      [Ev.TimerCreated, 3],
    ],
  );
  assert.equal(p2.events[0]!.Input, '{"n":1}');
  assert.deepEqual(
    p2.work.map((w) => w.kind),
    ['activity', 'activity', 'timer'],
  );
  const p3 = planEpisode(
    s,
    base({ actions: [[...episode2, { actionType: Act.ContinueAsNew, input: '"again"' }]], isDone: true }),
  );
  assert.deepEqual(p3.events, []);
  assert.deepEqual(p3.outcome, { kind: 'continueAsNew', input: '"again"' });
});

test('retry saga: timer after a failure, next attempt when it fires, dummy timer after the last', () => {
  const s = newExecState();
  planEpisode(s, base({ actions: [[retry('F', 2)]] }));
  const failed: HistoryEvent = {
    EventType: Ev.TaskFailed,
    EventId: -1,
    Timestamp: '',
    TaskScheduledId: 0,
    Reason: 'r',
    Details: 'd',
  };
  assert.equal(isSagaTrigger(s, failed), true);
  const op = s.open.get(0)!;
  applyEvent(s, failed);
  const t0 = Date.parse('2026-01-01T00:00:10Z');
  const p = planEpisode(s, base({ actions: [[retry('F', 2)]], sagaTrigger: failed, nowMs: t0 }), op);
  assert.deepEqual(
    p.events.map((e) => [e.EventType, e.EventId]),
    [[Ev.TimerCreated, 1]],
  );
  assert.equal(Date.parse(p.events[0]!.FireAt!), t0 + 1000);
  const fired: HistoryEvent = { EventType: Ev.TimerFired, EventId: -1, Timestamp: '', TimerId: 1 };
  assert.equal(isSagaTrigger(s, fired), true);
  const timerOp = s.open.get(1)!;
  applyEvent(s, fired);
  const p2 = planEpisode(s, base({ actions: [[retry('F', 2)]], sagaTrigger: fired }), timerOp);
  assert.deepEqual(
    p2.events.map((e) => [e.EventType, e.EventId, e.Name, e.Input]),
    [[Ev.TaskScheduled, 2, 'F', '"x"']],
  );
  const failed2 = { ...failed, TaskScheduledId: 2 };
  const op2 = s.open.get(2)!;
  applyEvent(s, failed2);
  const p3 = planEpisode(s, base({ actions: [[retry('F', 2)]], sagaTrigger: failed2, nowMs: t0 }), op2);
  assert.equal(
    Date.parse(p3.events[0]!.FireAt!),
    t0,
    'the dummy timer after the last attempt is due at once',
  );
  assert.equal(isSagaTrigger(s, { EventType: Ev.TimerFired, EventId: -1, Timestamp: '', TimerId: 3 }), false);
});

test('the saga reaction is numbered after new leaves of the same episode', () => {
  const s = newExecState();
  planEpisode(
    s,
    base({ actions: [[{ actionType: Act.WhenAny, compoundActions: [retry('X', 3), call('W')] }]] }),
  );
  const wDone: HistoryEvent = {
    EventType: Ev.TaskCompleted,
    EventId: -1,
    Timestamp: '',
    TaskScheduledId: 1,
    Result: '1',
  };
  const xFailed: HistoryEvent = {
    EventType: Ev.TaskFailed,
    EventId: -1,
    Timestamp: '',
    TaskScheduledId: 0,
    Reason: 'r',
    Details: 'd',
  };
  applyEvent(s, wDone);
  const op = s.open.get(0)!;
  applyEvent(s, xFailed);
  const p = planEpisode(
    s,
    base({
      actions: [[{ actionType: Act.WhenAny, compoundActions: [retry('X', 3), call('W')] }, call('Z')]],
      sagaTrigger: xFailed,
    }),
    op,
  );
  assert.deepEqual(
    p.events.map((e) => [e.EventType, e.EventId]),
    [
      [Ev.TaskScheduled, 2],
      [Ev.TimerCreated, 3],
    ],
  );
});

test('a replay that no longer matches the history fails clearly', () => {
  const s = newExecState();
  planEpisode(s, base({ actions: [[call('A')]] }));
  const p = planEpisode(s, base({ actions: [[call('B')]] }));
  assert.equal(p.outcome.kind, 'failed');
  assert.match(
    (p.outcome as { message: string }).message,
    /^Orchestrator function 'Orch' failed: Non-deterministic workflow detected.*'A'.*'B'/,
  );
});

test('scheduled entity signals fail as not supported', () => {
  const p = planEpisode(newExecState(), base({ actions: [[{ actionType: Act.ScheduledSignalEntity }]] }));
  assert.equal(p.outcome.kind, 'failed');
  assert.match((p.outcome as { message: string }).message, /not supported by the local host/);
});

test('callHttp is the built-in HTTP activity; a polled 202 reserves a timer and the next request', () => {
  const s = newExecState();
  const http = {
    actionType: Act.CallHttp,
    httpRequest: {
      method: 'POST',
      uri: 'http://h/api/jobs',
      headers: { a: 'b' },
      asynchronousPatternEnabled: true,
    },
  };
  const p = planEpisode(s, base({ actions: [[http]] }));
  assert.deepEqual(p.work, [
    { kind: 'activity', id: 0, name: HTTP_ACTIVITY, input: JSON.stringify(http.httpRequest) },
  ]);
  const accepted: HistoryEvent = {
    EventType: Ev.TaskCompleted,
    EventId: -1,
    Timestamp: '2026-01-01T00:00:00Z',
    TaskScheduledId: 0,
    Result: JSON.stringify({
      statusCode: 202,
      headers: { Location: '/api/jobs/1', 'Retry-After': '2' },
      content: '',
    }),
  };
  assert.ok(isSagaTrigger(s, accepted));
  const op = s.open.get(0)!;
  applyEvent(s, accepted);
  const p2 = planEpisode(s, base({ actions: [[http]], sagaTrigger: accepted, nowMs: 0 }), op);
  assert.deepEqual(p2.work, [{ kind: 'timer', id: 1, fireAt: '1970-01-01T00:00:02.000Z' }]);
  assert.equal(s.nextEventId, 3, 'the timer and the next request take two ids');
  const fired: HistoryEvent = { EventType: Ev.TimerFired, EventId: -1, Timestamp: 'x', TimerId: 1 };
  applyEvent(s, fired);
  const p3 = planEpisode(s, base({ actions: [[http]] }));
  assert.equal(p3.work.length, 1);
  const next = p3.work[0] as { id: number; input: string };
  assert.equal(next.id, 2);
  assert.deepEqual(JSON.parse(next.input), {
    ...http.httpRequest,
    method: 'GET',
    uri: 'http://h/api/jobs/1',
    content: null,
  });
});

test('entity calls, signals, locks and releases are EventSent with their requests', () => {
  const s = newExecState();
  const p = planEpisode(
    s,
    base({
      actions: [
        [
          {
            actionType: Act.LockEntities,
            lockSet: [
              { name: 'Account', key: 'a' },
              { name: 'Account', key: 'b' },
            ],
            lockRequestId: 'L',
          },
          { actionType: Act.CallEntity, instanceId: '@account@a', operation: 'get' },
          { actionType: Act.SignalEntity, instanceId: '@log@x', operation: 'add', input: 2 },
          { actionType: Act.ReleaseEntities },
        ],
      ],
    }),
  );
  assert.deepEqual(
    p.events.map((e) => [e.EventType, e.EventId, e.InstanceId, e.Name]),
    [
      [Ev.EventSent, 0, '@account@a', 'lock'],
      [Ev.EventSent, 1, '@account@a', 'get'],
      [Ev.EventSent, 2, '@log@x', 'add'],
      [Ev.EventSent, 3, '@account@a', 'release'],
      [Ev.EventSent, 4, '@account@b', 'release'],
    ],
  );
  assert.deepEqual(JSON.parse(p.events[0]!.Input!), {
    id: 'L',
    kind: 'lock',
    lockSet: ['@account@a', '@account@b'],
    position: 0,
    parent: 'test-instance',
  });
  assert.equal(s.nextEventId, 5);
  assert.equal(s.heldLocks, undefined);
});

test('stored events rebuild the same open work', () => {
  const live = newExecState();
  const p = planEpisode(
    live,
    base({ actions: [[call('A'), { actionType: Act.CreateTimer, fireAt: '2026-01-02T00:00:00Z' }]] }),
  );
  const rebuilt = newExecState();
  for (const e of p.events) applyEvent(rebuilt, e);
  assert.deepEqual([...rebuilt.open.keys()], [...live.open.keys()]);
  assert.equal(rebuilt.nextEventId, live.nextEventId);
});

test('retry delays grow by the coefficient up to the maximum', () => {
  const policy = {
    firstRetryIntervalInMilliseconds: 100,
    maxNumberOfAttempts: 5,
    backoffCoefficient: 3,
    maxRetryIntervalInMilliseconds: 1000,
  };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((k) => retryDelayMs(policy, k)),
    [100, 300, 900, 1000, 0],
  );
});
