import { pageOf, pagingParams, problems, type RouteSpec } from '../catalogue';

/** Routes of issue 6's queue trigger (TRIGGERS: functions/queue-runs.ts). TRIGGERS: adjust as needed. */
export const routes: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/triggers/queue/rejections',
    operationId: 'listQueueRejections',
    summary: 'Invalid sluice-runs messages sent to sluice-runs-poison, with their validation problems',
    tags: ['triggers'],
    parameters: pagingParams,
    responses: {
      '200': { description: 'A page of rejections', schema: pageOf({ type: 'object' }) },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/triggers/queue/deliveries',
    operationId: 'listQueueDeliveries',
    summary: 'Queue messages that started (or deduplicated to) runs',
    tags: ['triggers'],
    parameters: pagingParams,
    responses: {
      '200': { description: 'A page of deliveries', schema: pageOf({ type: 'object' }) },
      ...problems(400),
    },
  },
];
