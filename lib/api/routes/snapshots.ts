import { pathParam, problems, type JsonSchema, type RouteSpec } from '../catalogue';

export const schemas: Record<string, JsonSchema> = {
  SnapshotResult: {
    type: 'object',
    required: ['ref', 'hash', 'files', 'bytes'],
    properties: {
      ref: { type: 'string', description: 'snapshot:sha256:<hex>, what a step `code` holds.' },
      hash: { type: 'string', description: 'sha256 of the canonical manifest.' },
      files: { type: 'integer' },
      bytes: { type: 'integer' },
      created: { type: 'boolean' },
    },
  },
  SnapshotManifest: {
    type: 'object',
    properties: {
      hash: { type: 'string' },
      format: { type: 'integer' },
      entries: {
        type: 'array',
        items: {
          type: 'object',
          required: ['path', 'type'],
          properties: {
            path: { type: 'string' },
            type: { enum: ['file', 'symlink'] },
            size: { type: 'integer' },
            mode: { type: 'integer' },
            hash: { type: 'string' },
            target: { type: 'string' },
          },
        },
      },
    },
  },
};

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/snapshots',
    operationId: 'uploadSnapshot',
    summary: 'Upload a tar.gz of a code directory; stored content-addressed',
    description:
      'Entries escaping the root (.., absolute paths, links pointing outside) are rejected with 400. Limits (413): 50 MiB ' +
      'compressed, 250 MiB expanded, 100 MiB per file, 10000 files (settings SLUICE_SNAPSHOT_MAX_*).',
    tags: ['snapshots'],
    requestBody: {
      required: true,
      content: { 'application/gzip': { type: 'string', contentEncoding: 'binary' } },
    },
    responses: {
      '201': { description: 'Stored', schema: { $ref: '#/components/schemas/SnapshotResult' } },
      '200': {
        description: 'Already stored; nothing new written',
        schema: { $ref: '#/components/schemas/SnapshotResult' },
      },
      ...problems(400, 413),
    },
  },
  {
    method: 'get',
    path: '/api/snapshots/{hash}',
    operationId: 'getSnapshot',
    summary: "A snapshot's manifest",
    tags: ['snapshots'],
    parameters: [pathParam('hash', 'sha256:<hex> or snapshot:sha256:<hex>.')],
    responses: {
      '200': { description: 'The manifest', schema: { $ref: '#/components/schemas/SnapshotManifest' } },
      ...problems(400, 404),
    },
  },
];
