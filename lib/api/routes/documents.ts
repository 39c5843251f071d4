import type { RouteSpec } from '../catalogue';

export const routes: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/schemas/pipeline.json',
    operationId: 'getPipelineJsonSchema',
    summary: 'JSON Schema of the pipeline definition (for editors)',
    tags: ['documents'],
    anonymous: true,
    responses: { '200': { description: 'JSON Schema 2020-12', schema: { type: 'object' } } },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This OpenAPI 3.1 document',
    tags: ['documents'],
    anonymous: true,
    responses: { '200': { description: 'OpenAPI 3.1', schema: { type: 'object' } } },
  },
];
