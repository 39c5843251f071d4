import { z } from 'zod';
import { PipelineDefinitionSchema } from '../../pipelines/schema';
import {
  pageOf,
  pagingParams,
  pathParam,
  problems,
  ref,
  type JsonSchema,
  type RouteSpec,
} from '../catalogue';

const name = pathParam('name', 'Pipeline name.', {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$',
});
const TAGS = ['pipelines'];

export const schemas: Record<string, JsonSchema> = {
  PipelineDefinition: (() => {
    const s = z.toJSONSchema(PipelineDefinitionSchema, {
      io: 'input',
      unrepresentable: 'any',
      target: 'draft-2020-12',
    }) as JsonSchema;
    const { $schema: _drop, id: _id, ...rest } = s as Record<string, unknown>;
    return rest;
  })(),
  PublishResult: {
    type: 'object',
    required: ['name', 'version', 'definitionHash', 'createdAt'],
    properties: {
      name: { type: 'string' },
      version: { type: 'integer', minimum: 1 },
      definitionHash: { type: 'string', description: 'sha256 of the canonical JSON of the definition.' },
      createdAt: { type: 'string', format: 'date-time' },
      created: {
        type: 'boolean',
        description: 'False when an identical version already existed (HTTP 200).',
      },
      enabled: { type: 'boolean' },
      url: { type: 'string' },
      note: { type: 'string' },
      warnings: {
        type: 'array',
        description:
          'Accepted, but in a deprecated form: each {pointer, message} says what to change (e.g. kind: automl with a command is now kind: sweep).',
        items: {
          type: 'object',
          properties: { pointer: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  },
  PipelineSummary: {
    type: 'object',
    required: ['name', 'latestVersion', 'defaultVersion', 'enabled'],
    properties: {
      name: { type: 'string' },
      description: { type: 'string' },
      latestVersion: { type: 'integer' },
      defaultVersion: { type: 'integer', description: 'What a run without a version uses.' },
      pinnedVersion: {
        type: ['integer', 'null'],
        description: 'null: the default follows the latest version.',
      },
      enabled: { type: 'boolean' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      disabledAt: { type: 'string', format: 'date-time' },
    },
  },
  VersionSummary: {
    type: 'object',
    required: ['version', 'definitionHash', 'createdAt'],
    properties: {
      version: { type: 'integer' },
      definitionHash: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
  PipelineVersion: {
    type: 'object',
    required: ['name', 'version', 'definitionHash', 'definition', 'enabled'],
    properties: {
      name: { type: 'string' },
      version: { type: 'integer' },
      definitionHash: { type: 'string' },
      definition: ref('PipelineDefinition'),
      createdAt: { type: 'string', format: 'date-time' },
      enabled: { type: 'boolean' },
      isDefault: { type: 'boolean' },
    },
  },
};

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/pipelines',
    operationId: 'publishPipeline',
    summary: 'Publish a pipeline definition as its next version (idempotent)',
    description:
      'Validates the definition (every problem at once, each with a JSON pointer) and stores it as version N+1. ' +
      'An identical definition answers 200 with the existing version. `code` must be a snapshot reference.',
    tags: TAGS,
    requestBody: {
      required: true,
      content: {
        'application/json': ref('PipelineDefinition'),
        'application/yaml': { type: 'string', description: 'The definition as YAML.' },
      },
    },
    responses: {
      '201': { description: 'Stored as a new version', schema: ref('PublishResult') },
      '200': {
        description: 'Identical to an existing version; nothing stored',
        schema: ref('PublishResult'),
      },
      ...problems(400, 413, 415, 503),
    },
  },
  {
    method: 'get',
    path: '/api/pipelines',
    operationId: 'listPipelines',
    summary: 'List pipelines (paged)',
    tags: TAGS,
    parameters: pagingParams,
    responses: {
      '200': { description: 'A page of pipelines', schema: pageOf(ref('PipelineSummary')) },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/pipelines/{name}',
    operationId: 'getPipeline',
    summary: 'A pipeline with its most recent versions',
    tags: TAGS,
    parameters: [name],
    responses: {
      '200': {
        description: 'The pipeline',
        schema: {
          allOf: [
            ref('PipelineSummary'),
            { type: 'object', properties: { versions: { type: 'array', items: ref('VersionSummary') } } },
          ],
        },
      },
      ...problems(400, 404),
    },
  },
  {
    method: 'patch',
    path: '/api/pipelines/{name}',
    operationId: 'updatePipeline',
    summary: 'Pin the default version and/or enable or disable the pipeline',
    tags: TAGS,
    parameters: [name],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          type: 'object',
          additionalProperties: false,
          properties: {
            defaultVersion: {
              oneOf: [{ type: 'integer', minimum: 1 }, { const: 'latest' }, { type: 'null' }],
            },
            enabled: { type: 'boolean' },
          },
        },
      },
    },
    responses: { '200': { description: 'Updated', schema: ref('PipelineSummary') }, ...problems(400, 404) },
  },
  {
    method: 'delete',
    path: '/api/pipelines/{name}',
    operationId: 'disablePipeline',
    summary: 'Disable a pipeline; its versions, runs and data are kept',
    tags: TAGS,
    parameters: [name],
    responses: {
      '200': {
        description: 'Disabled',
        schema: {
          allOf: [ref('PipelineSummary'), { type: 'object', properties: { message: { type: 'string' } } }],
        },
      },
      ...problems(400, 404),
    },
  },
  {
    method: 'get',
    path: '/api/pipelines/{name}/versions',
    operationId: 'listPipelineVersions',
    summary: 'Versions of a pipeline, newest first (paged)',
    tags: TAGS,
    parameters: [name, ...pagingParams],
    responses: {
      '200': { description: 'A page of versions', schema: pageOf(ref('VersionSummary')) },
      ...problems(400, 404),
    },
  },
  {
    method: 'get',
    path: '/api/pipelines/{name}/versions/{version}',
    operationId: 'getPipelineVersion',
    summary: 'The stored definition of one version (number, "latest" or "default")',
    tags: TAGS,
    parameters: [name, pathParam('version', 'A version number, "latest" or "default".')],
    responses: {
      '200': { description: 'The version', schema: ref('PipelineVersion') },
      ...problems(400, 404),
    },
  },
];
