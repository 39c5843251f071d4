import { app } from '@azure/functions';
import * as df from 'durable-functions';
import {
  scheduleEvaluateHandler,
  scheduleHandler,
  scheduleHistoryHandler,
  schedulesCollectionHandler,
} from '../lib/schedules/http';
import { EVALUATOR_SCHEDULE, evaluateSchedulesOnTimer } from '../lib/schedules/timer';

app.http('schedules', {
  route: 'schedules',
  methods: ['GET', 'POST'],
  authLevel: 'function',
  handler: schedulesCollectionHandler,
});

app.http('schedule', {
  route: 'schedules/{name}',
  methods: ['GET', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: scheduleHandler,
});

app.http('schedule-history', {
  route: 'schedules/{name}/history',
  methods: ['GET'],
  authLevel: 'function',
  handler: scheduleHistoryHandler,
});

app.http('schedule-evaluate', {
  route: 'schedules/{name}/evaluate',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: scheduleEvaluateHandler,
});

// useMonitor off: missed ticks need no replay, because each evaluation covers everything since the last.
app.timer('schedules-evaluator', {
  schedule: EVALUATOR_SCHEDULE,
  useMonitor: false,
  runOnStartup: false,
  // Starting (or cancelling) a run reaches the durable engine through this binding (on Azure, the only way).
  extraInputs: [df.input.durableClient()],
  handler: evaluateSchedulesOnTimer,
});
