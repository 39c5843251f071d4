/**
 * The route catalogue behind GET /api/openapi.json. Each feature describes its own routes in
 * lib/api/routes/<feature>.ts; lib/api/openapi.ts assembles them into one OpenAPI 3.1 document.
 */

export type JsonSchema = Record<string, unknown>;

export interface ParameterSpec {
  name: string;
  in: 'path' | 'query' | 'header';
  description: string;
  /** @default true for path parameters, false otherwise */
  required?: boolean;
  schema: JsonSchema;
}

export interface ResponseSpec {
  description: string;
  /** Body schema; omitted for bodiless responses. */
  schema?: JsonSchema;
  /** @default "application/json" (problem responses use application/problem+json) */
  contentType?: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path including the /api prefix, e.g. `/api/pipelines/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: ParameterSpec[];
  requestBody?: { description?: string; required?: boolean; content: Record<string, JsonSchema> };
  responses: Record<string, ResponseSpec>;
  /** Routes that never need a key (documents, health). @default false */
  anonymous?: boolean;
}

/** `{ "$ref": "#/components/schemas/NAME" }` */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const PROBLEM_TEXT: Record<string, string> = {
  '400': 'Invalid request: errors[] lists every problem with a JSON pointer',
  '401': 'A key is required (x-functions-key header or ?code=)',
  '404': 'Not found',
  '405': 'Method not allowed',
  '409': 'Conflict with the current state',
  '412': 'Precondition failed',
  '413': 'Payload too large',
  '415': 'Unsupported media type',
  '503': 'A dependency is unavailable',
};

/** RFC 7807 problem responses for the given statuses. */
export function problems(...statuses: number[]): Record<string, ResponseSpec> {
  const out: Record<string, ResponseSpec> = {};
  for (const s of statuses)
    out[String(s)] = {
      description: PROBLEM_TEXT[String(s)] ?? 'Problem',
      schema: ref('Problem'),
      contentType: 'application/problem+json',
    };
  return out;
}

export const pathParam = (
  name: string,
  description: string,
  schema: JsonSchema = { type: 'string' },
): ParameterSpec => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});

export const queryParam = (
  name: string,
  description: string,
  schema: JsonSchema = { type: 'string' },
): ParameterSpec => ({
  name,
  in: 'query',
  description,
  schema,
});

/** `limit` and `continuationToken` for paged lists. */
export const pagingParams: ParameterSpec[] = [
  queryParam('limit', 'Page size, 1–100 (default 50).', { type: 'integer', minimum: 1, maximum: 100 }),
  queryParam('continuationToken', 'The continuationToken of the previous page, unchanged.'),
];

/** A paged list body: `{ items, continuationToken?, next? }`. */
export const pageOf = (item: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['items'],
  properties: {
    items: { type: 'array', items: item },
    continuationToken: { type: 'string', description: 'Absent on the last page.' },
    next: { type: 'string', description: 'Relative URL of the next page.' },
  },
});
