import type { JsonSchema, RouteSpec } from './catalogue';
import { ROUTE_MODULES, type RouteModule } from './routes';

/**
 * Builds the OpenAPI 3.1 document from the route catalogue (lib/api/routes/*). Security: every route
 * accepts a function key (header `x-functions-key` or query `code`); the host enforces it only when a
 * key is configured. Documents and health are anonymous.
 */

const PROBLEM: JsonSchema = {
  type: 'object',
  description: 'RFC 7807 problem details.',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'Every field problem, each with a JSON pointer (RFC 6901) into the request.',
      items: {
        type: 'object',
        required: ['pointer', 'message'],
        properties: { pointer: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

export function buildOpenApi(
  modules: RouteModule[] = ROUTE_MODULES,
  version = '0.1.0',
): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = { Problem: PROBLEM };
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const m of modules) {
    Object.assign(schemas, m.schemas ?? {});
    for (const r of m.routes) {
      r.tags.forEach((t) => tags.add(t));
      const item = (paths[r.path] ??= {});
      if (item[r.method])
        throw new Error(`route catalogue: ${r.method.toUpperCase()} ${r.path} is described twice`);
      item[r.method] = operation(r);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice',
      version,
      description:
        'Machine-learning pipelines as a serverless service. Errors are application/problem+json with errors[].pointer.',
    },
    servers: [{ url: '/' }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
        functionKeyQuery: { type: 'apiKey', in: 'query', name: 'code' },
      },
    },
    security: [{}, { functionKey: [] }, { functionKeyQuery: [] }],
  };
}

function operation(r: RouteSpec): Record<string, unknown> {
  const op: Record<string, unknown> = { operationId: r.operationId, summary: r.summary, tags: r.tags };
  if (r.description) op.description = r.description;
  if (r.parameters?.length)
    op.parameters = r.parameters.map((p) => ({
      name: p.name,
      in: p.in,
      required: p.in === 'path' ? true : (p.required ?? false),
      description: p.description,
      schema: p.schema,
    }));
  if (r.requestBody) {
    op.requestBody = {
      required: r.requestBody.required ?? false,
      ...(r.requestBody.description ? { description: r.requestBody.description } : {}),
      content: Object.fromEntries(
        Object.entries(r.requestBody.content).map(([t, schema]) => [t, { schema }]),
      ),
    };
  }
  op.responses = Object.fromEntries(
    Object.entries(r.responses).map(([status, resp]) => {
      const out: Record<string, unknown> = { description: resp.description };
      if (resp.schema) out.content = { [resp.contentType ?? 'application/json']: { schema: resp.schema } };
      if (resp.headers) out.headers = resp.headers;
      return [status, out];
    }),
  );
  if (r.anonymous) op.security = [{}];
  return op;
}
