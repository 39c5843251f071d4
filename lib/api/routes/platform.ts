import { pathParam, problems, type RouteSpec } from '../catalogue';

/** Routes of functions/health.ts (STACK) and functions/dashboard.ts (lead). */
export const routes: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/health',
    operationId: 'getHealth',
    summary: 'Health of the app and its dependencies (storage, Cosmos DB)',
    tags: ['platform'],
    anonymous: true,
    responses: {
      '200': { description: 'Every dependency answers', schema: { type: 'object' } },
      ...problems(503),
    },
  },
  {
    method: 'get',
    path: '/api/dashboard/{path}',
    operationId: 'getDashboard',
    summary: 'The dashboard page (HTML over this REST API)',
    tags: ['platform'],
    anonymous: true,
    parameters: [pathParam('path', 'Any sub-path; the page routes in the browser.')],
    responses: { '200': { description: 'HTML', schema: { type: 'string' }, contentType: 'text/html' } },
  },
];
