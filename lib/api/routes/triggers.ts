import { pageOf, pagingParams, problems, type RouteSpec } from '../catalogue';

/** Routes of issue 6's queue trigger (TRIGGERS: functions/queue-runs.ts). */
const decision = { $ref: '#/components/schemas/TriggerDecision' };

export const routes: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/triggers/queue/rejections',
    operationId: 'listQueueRejections',
    summary: 'Invalid sluice-runs messages sent to sluice-runs-poison, with their validation problems',
    tags: ['triggers'],
    parameters: pagingParams,
    responses: {
      '200': { description: 'A page of rejections, newest first', schema: pageOf(decision) },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/triggers/queue/poison',
    operationId: 'peekQueuePoison',
    summary:
      'What is in sluice-runs-poison now (up to 32, peeked): Sluice rejections with problems, host moves with text',
    tags: ['triggers'],
    responses: { '200': { description: 'Poison messages', schema: { type: 'object' } }, ...problems(503) },
  },
  {
    method: 'get',
    path: '/api/triggers/queue/deliveries',
    operationId: 'listQueueDeliveries',
    summary:
      'Queue runs whose message named outputs: awaiting the run, delivered to datasets, or not delivered',
    tags: ['triggers'],
    responses: {
      '200': { description: 'Deliveries, newest first', schema: pageOf(decision) },
      ...problems(400),
    },
  },
];
