import { problems, queryParam, ref, type JsonSchema, type RouteSpec } from '../catalogue';

/** Routes of functions/artifact-gc.ts (DATA): the artifact garbage collector. */
export const schemas: Record<string, JsonSchema> = {
  GcReport: {
    type: 'object',
    required: ['dryRun', 'roots', 'marked', 'scanned', 'deleted', 'keptYoung', 'bytesFreed', 'cutoff'],
    properties: {
      dryRun: { type: 'boolean' },
      roots: {
        type: 'object',
        description: 'Root documents read: every dataset version, cache entry and run.',
        properties: {
          datasetVersions: { type: 'integer' },
          cacheEntries: { type: 'integer' },
          runs: { type: 'integer' },
        },
      },
      marked: { type: 'integer', description: 'Distinct reachable hashes (files, manifests, their files).' },
      missing: { type: 'integer', description: 'Referenced directory manifests with no blob.' },
      scanned: { type: 'integer', description: 'artifacts/sha256/ blobs listed.' },
      deleted: { type: 'integer', description: 'Unreferenced blobs deleted (dry run: that would be).' },
      keptYoung: { type: 'integer', description: 'Unreferenced blobs modified after the cut-off.' },
      skipped: { type: 'integer', description: 'Unreferenced blobs reused between listing and delete.' },
      bytesFreed: { type: 'integer' },
      lineageDeleted: { type: 'integer' },
      graceMs: { type: 'integer' },
      cutoff: { type: 'string', format: 'date-time' },
      heldBackBy: {
        type: 'object',
        description: 'The run in progress whose start moved the cut-off back.',
        properties: {
          runId: { type: 'string' },
          status: { type: 'string' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      collected: {
        type: 'array',
        description: 'The deleted (dry run: deletable) blobs, at most 1000.',
        items: {
          type: 'object',
          properties: {
            hash: { type: 'string' },
            size: { type: 'integer' },
            lastModified: { type: 'string', format: 'date-time' },
          },
        },
      },
      collectedTruncated: { type: 'boolean' },
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
    },
  },
};

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/gc',
    operationId: 'collectArtifactGarbage',
    summary: 'Delete stored artifacts no dataset, cache entry or run references (master key)',
    description:
      'Mark and sweep over the artifacts container: blobs unreferenced and last modified before now minus SLUICE_GC_GRACE (24h) are deleted with their lineage. Needs the master key (authLevel admin). The same collection runs daily at 03:17.',
    tags: ['artifacts'],
    parameters: [
      queryParam('dryRun', 'true: report what would be deleted and delete nothing.', { type: 'boolean' }),
    ],
    responses: {
      '200': { description: 'The collection report', schema: ref('GcReport') },
      ...problems(400, 401),
      '500': {
        description:
          'SLUICE_GC_GRACE is invalid (the detail names it) or a referenced manifest is corrupt; nothing was deleted',
        schema: ref('Problem'),
        contentType: 'application/problem+json',
      },
    },
  },
];
