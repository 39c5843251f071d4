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
      agents: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            agentId: { type: 'string' },
            pool: { type: 'string' },
            version: { type: 'string' },
            heartbeatAt: { type: 'string', format: 'date-time' },
            heartbeatAgeMs: { type: 'integer' },
            running: {
              type: 'array',
              items: { type: 'string' },
              description: '`runId/jobId` of each running job.',
            },
            capacity: { type: 'object' },
            free: { type: 'object' },
            cachedEnvironments: {
              type: 'array',
              items: { type: 'string' },
              description:
                "The first 12 hex of each cached environment's build key (steps[].environment.hash).",
            },
            environments: {
              type: 'array',
              description: 'The cached environments in full, most recently used first (at most 50).',
              items: {
                type: 'object',
                properties: {
                  key: { type: 'string' },
                  tool: { type: 'string' },
                  python: { type: 'string' },
                  packages: { type: 'integer' },
                  lockHead: { type: 'array', items: { type: 'string' } },
                  sizeBytes: { type: 'integer' },
                  builtAt: { type: 'string', format: 'date-time' },
                  lastUsedAt: { type: 'string', format: 'date-time' },
                  names: {
                    type: 'array',
                    items: { type: 'string' },
                    description: 'The registered environments (`name@version`) it has served.',
                  },
                },
              },
            },
          },
        },
      },
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
  {
    method: 'post',
    path: '/api/agent-keys',
    operationId: 'createAgentKey',
    summary: 'Create an agent key for one pool (the key is in this answer only)',
    tags: TAGS,
    requestBody: {
      required: true,
      content: {
        'application/json': {
          type: 'object',
          required: ['pool'],
          properties: { pool: { type: 'string' }, description: { type: 'string' } },
        },
      },
    },
    responses: {
      '201': {
        description: 'The key',
        schema: {
          type: 'object',
          properties: { id: { type: 'string' }, pool: { type: 'string' }, key: { type: 'string' } },
        },
      },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/agent-keys',
    operationId: 'listAgentKeys',
    summary: 'Agent keys (ids and pools, never the keys)',
    tags: TAGS,
    responses: { '200': { description: 'The keys', schema: { type: 'object' } } },
  },
  {
    method: 'delete',
    path: '/api/agent-keys/{id}',
    operationId: 'revokeAgentKey',
    summary: 'Revoke an agent key: its agents are refused at their next renewal or job',
    tags: TAGS,
    parameters: [pathParam('id', 'Agent key id.')],
    responses: { '204': { description: 'Revoked' }, ...problems(404) },
  },
  {
    method: 'post',
    path: '/api/agent-credentials',
    operationId: 'getAgentCredentials',
    summary: "Scoped SAS credentials for the agent key's pool (header x-sluice-agent-key)",
    tags: TAGS,
    anonymous: true,
    responses: {
      '200': { description: 'Pool credentials', schema: { type: 'object' } },
      ...problems(400, 401),
    },
  },
  {
    method: 'post',
    path: '/api/agent-credentials/job',
    operationId: 'getJobCredentials',
    summary: "Scoped SAS credentials for one job of the key's pool: its row and its log",
    tags: TAGS,
    anonymous: true,
    requestBody: {
      required: true,
      content: {
        'application/json': {
          type: 'object',
          required: ['runId', 'jobId'],
          properties: { runId: { type: 'string' }, jobId: { type: 'string' } },
        },
      },
    },
    responses: {
      '200': { description: 'Job credentials', schema: { type: 'object' } },
      ...problems(400, 401, 404, 409),
    },
  },
];
