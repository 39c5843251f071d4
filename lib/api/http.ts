import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpHandler, json } from '../http/handler';
import { pipelineJsonSchema } from '../pipelines/schema';
import { buildOpenApi } from './openapi';

/** Handlers for the API's self-description; registered in functions/schemas.ts. */

let openapi: Record<string, unknown> | undefined;
let schema: Record<string, unknown> | undefined;

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return '0.0.0';
  }
}

/** `GET /api/openapi.json` */
export const openApiHandler = httpHandler(async () => {
  openapi ??= buildOpenApi(undefined, packageVersion());
  return json(200, openapi, { 'cache-control': 'no-cache' });
});

/** `GET /api/schemas/pipeline.json` */
export const pipelineSchemaHandler = httpHandler(async () => {
  schema ??= pipelineJsonSchema();
  return json(200, schema, { 'content-type': 'application/schema+json', 'cache-control': 'no-cache' });
});
