import { pageOf, pagingParams, pathParam, problems, type JsonSchema, type RouteSpec } from '../catalogue';

/**
 * Routes of issue 5 (DATA: functions/datasets.ts, functions/artifacts.ts), pre-written from the issue
 * text. DATA: adjust these to what you build.
 */
export const schemas: Record<string, JsonSchema> = {
  DatasetVersion: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      version: { type: 'integer' },
      hash: { type: 'string' },
      type: { enum: ['file', 'directory'] },
      size: { type: 'integer' },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
};

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/datasets/{name}',
    operationId: 'registerDataset',
    summary:
      'Upload data or register an existing blob path; a new version only when the content hash differs',
    tags: ['datasets'],
    parameters: [pathParam('name', 'Dataset name.')],
    requestBody: {
      content: {
        'application/octet-stream': { type: 'string', contentEncoding: 'binary' },
        'application/json': { type: 'object', properties: { blobPath: { type: 'string' } } },
      },
    },
    responses: {
      '201': { description: 'New version', schema: { $ref: '#/components/schemas/DatasetVersion' } },
      '200': {
        description: 'Same content as the latest version',
        schema: { $ref: '#/components/schemas/DatasetVersion' },
      },
      ...problems(400, 413),
    },
  },
  {
    method: 'get',
    path: '/api/datasets',
    operationId: 'listDatasets',
    summary: 'Datasets (paged)',
    tags: ['datasets'],
    parameters: pagingParams,
    responses: {
      '200': { description: 'A page of datasets', schema: pageOf({ type: 'object' }) },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/datasets/{name}',
    operationId: 'getDataset',
    summary: 'A dataset with its versions',
    tags: ['datasets'],
    parameters: [pathParam('name', 'Dataset name.')],
    responses: { '200': { description: 'The dataset', schema: { type: 'object' } }, ...problems(404) },
  },
  {
    method: 'get',
    path: '/api/datasets/{name}/versions/{version}',
    operationId: 'getDatasetVersion',
    summary: 'One dataset version',
    tags: ['datasets'],
    parameters: [pathParam('name', 'Dataset name.'), pathParam('version', 'Version number or "latest".')],
    responses: {
      '200': { description: 'The version', schema: { $ref: '#/components/schemas/DatasetVersion' } },
      ...problems(404),
    },
  },
  {
    method: 'get',
    path: '/api/artifacts/{hash}',
    operationId: 'getArtifact',
    summary: 'A content-addressed artifact (file, or directory manifest)',
    tags: ['artifacts'],
    parameters: [pathParam('hash', 'sha256:<hex>.')],
    responses: {
      '200': {
        description: 'The bytes',
        schema: { type: 'string', contentEncoding: 'binary' },
        contentType: 'application/octet-stream',
      },
      ...problems(400, 404),
    },
  },
  {
    method: 'get',
    path: '/api/artifacts/{hash}/lineage',
    operationId: 'getArtifactLineage',
    summary: 'Which run and step produced an artifact, and which runs consumed it',
    tags: ['artifacts'],
    parameters: [pathParam('hash', 'sha256:<hex>.')],
    responses: { '200': { description: 'Lineage', schema: { type: 'object' } }, ...problems(400, 404) },
  },
];
