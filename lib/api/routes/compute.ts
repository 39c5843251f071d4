import { z } from 'zod';
import { TargetBodySchema } from '../../compute/targets';
import { pathParam, problems, type JsonSchema, type RouteSpec } from '../catalogue';

/** Routes of issue 13's compute targets (functions/compute.ts); the body comes from lib/compute/targets.ts. */
const TAGS = ['compute'];
const name = pathParam('name', 'Compute target name.');

function fromZod(schema: z.ZodType): JsonSchema {
  const s = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
  const { $schema: _drop, ...rest } = s as Record<string, unknown>;
  return rest;
}

export const schemas: Record<string, JsonSchema> = {
  ComputeTargetBody: fromZod(TargetBodySchema),
  ComputeTarget: {
    allOf: [
      { $ref: '#/components/schemas/ComputeTargetBody' },
      {
        type: 'object',
        properties: {
          name: { type: 'string', readOnly: true },
          updatedAt: { type: 'string', format: 'date-time', readOnly: true },
        },
      },
    ],
  },
  ComputeTargetLive: {
    type: 'object',
    description:
      'Agents (heartbeat, version, running jobs, free resources, cached environments), queue depth, and Slurm jobs.',
    properties: {
      name: { type: 'string' },
      backend: { enum: ['agent', 'slurm'] },
      at: { type: 'string', format: 'date-time' },
      queueDepth: { type: 'integer' },
      agents: { type: 'array', items: { type: 'object' } },
      slurmJobs: { type: 'array', items: { type: 'object' } },
      problems: { type: 'array', items: { type: 'string' } },
    },
  },
};

const one = { description: 'The compute target', schema: { $ref: '#/components/schemas/ComputeTarget' } };

export const routes: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/compute',
    operationId: 'listComputeTargets',
    summary: 'Compute targets (seeded from SLUICE_COMPUTE_TARGETS)',
    tags: TAGS,
    responses: {
      '200': {
        description: 'Every target',
        schema: {
          type: 'object',
          properties: { items: { type: 'array', items: { $ref: '#/components/schemas/ComputeTarget' } } },
        },
      },
    },
  },
  {
    method: 'get',
    path: '/api/compute/{name}',
    operationId: 'getComputeTarget',
    summary: 'A compute target',
    tags: TAGS,
    parameters: [name],
    responses: { '200': one, ...problems(400, 404) },
  },
  {
    method: 'put',
    path: '/api/compute/{name}',
    operationId: 'putComputeTarget',
    summary: 'Create or replace a compute target (used at the next publish and run start, no restart)',
    tags: TAGS,
    parameters: [name],
    requestBody: {
      required: true,
      content: { 'application/json': { $ref: '#/components/schemas/ComputeTargetBody' } },
    },
    responses: { '200': one, '201': one, ...problems(400) },
  },
  {
    method: 'delete',
    path: '/api/compute/{name}',
    operationId: 'deleteComputeTarget',
    summary: 'Delete a compute target (steps naming it fail at publish and run start)',
    tags: TAGS,
    parameters: [name],
    responses: { '204': { description: 'Deleted' }, ...problems(400, 404) },
  },
  {
    method: 'get',
    path: '/api/compute/{name}/live',
    operationId: 'getComputeTargetLive',
    summary: 'The live view of a target: agents, queue depth, Slurm jobs',
    tags: TAGS,
    parameters: [name],
    responses: {
      '200': { description: 'The live view', schema: { $ref: '#/components/schemas/ComputeTargetLive' } },
      ...problems(400, 404),
    },
  },
];
