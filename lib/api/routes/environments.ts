import { z } from 'zod';
import { EnvironmentSpecSchema } from '../../environments/spec';
import { pathParam, problems, type JsonSchema, type RouteSpec } from '../catalogue';

/** Named, versioned step environments (lib/environments). */
export const schemas: Record<string, JsonSchema> = {
  EnvironmentSpec: z.toJSONSchema(EnvironmentSpecSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema,
  EnvironmentVersion: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      version: { type: 'integer' },
      specHash: { type: 'string' },
      spec: { $ref: '#/components/schemas/EnvironmentSpec' },
      description: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
};

const version = { $ref: '#/components/schemas/EnvironmentVersion' };

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/environments/{name}',
    operationId: 'publishEnvironment',
    summary: 'Publish an environment spec: a new version, or the latest when the spec is the same',
    tags: ['environments'],
    parameters: [pathParam('name', 'Environment name.')],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          type: 'object',
          required: ['spec'],
          properties: {
            spec: { $ref: '#/components/schemas/EnvironmentSpec' },
            description: { type: 'string' },
          },
        },
      },
    },
    responses: {
      '201': { description: 'New version', schema: version },
      '200': { description: 'Same spec as the latest version', schema: version },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/environments',
    operationId: 'listEnvironments',
    summary: 'Named environments',
    tags: ['environments'],
    responses: {
      '200': {
        description: 'Environments',
        schema: { type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } },
      },
    },
  },
  {
    method: 'get',
    path: '/api/environments/{name}',
    operationId: 'getEnvironment',
    summary: 'One environment with its versions, newest first',
    tags: ['environments'],
    parameters: [pathParam('name', 'Environment name.')],
    responses: { '200': { description: 'The environment', schema: { type: 'object' } }, ...problems(404) },
  },
  {
    method: 'get',
    path: '/api/environments/{name}/versions/{version}',
    operationId: 'getEnvironmentVersion',
    summary: 'One version (a number or latest) with its spec',
    tags: ['environments'],
    parameters: [
      pathParam('name', 'Environment name.'),
      pathParam('version', 'A version number or "latest".'),
    ],
    responses: { '200': { description: 'The version', schema: version }, ...problems(400, 404) },
  },
];
