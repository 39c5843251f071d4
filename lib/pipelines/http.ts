import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { ProblemError, invalid, pointer, type FieldProblem } from '../errors/problem';
import { httpHandler, json, readJson } from '../http/handler';
import { snapshotExists } from '../snapshots/store';
import { PIPELINE_NAME_RE, PIPELINE_NAME_RULE } from './formats';
import type { PipelineDefinition } from './schema';
import { MAX_DEFINITION_BYTES, parseDefinitionText } from './source';
import {
  getPipeline,
  getPipelineVersion,
  listPipelines,
  listVersions,
  publishPipeline,
  updatePipeline,
  type PipelinePatch,
} from './store';
import { computeTargetProblems, summary, validateDefinition } from './validate';
import { resolveCodeIncludes } from './code-include';
import { listComputeTargetNames, stepResourceProblems } from '../compute/targets-store';
import { nextLink, paging } from '../http/paging';

/** HTTP handlers for /api/pipelines…; registered in functions/pipelines.ts. */

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

function mediaType(req: HttpRequest): string {
  return (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

function methodNotAllowed(req: HttpRequest, allowed: string[]): never {
  throw new ProblemError(
    'method-not-allowed',
    `${req.method} is not supported here; use ${allowed.join(' or ')}.`,
    undefined,
    {
      allow: allowed,
    },
  );
}

export function pipelineName(req: HttpRequest): string {
  const name = req.params.name ?? '';
  if (!PIPELINE_NAME_RE.test(name))
    throw invalid([
      {
        pointer: '/name',
        message: `"${name}" is not a pipeline name: a pipeline name is ${PIPELINE_NAME_RULE}.`,
      },
    ]);
  return name;
}

/** Reads a definition from JSON or YAML, reporting syntax problems and YAML duplicate keys. */
async function readDefinitionBody(req: HttpRequest): Promise<{ value: unknown; problems: FieldProblem[] }> {
  const type = mediaType(req);
  const isYaml = YAML_TYPES.includes(type);
  if (!isYaml && type !== '' && type !== 'application/json' && !type.endsWith('+json'))
    throw new ProblemError(
      'unsupported-media-type',
      `Content-Type "${type}" is not accepted; send the definition as application/json or application/yaml.`,
    );
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > MAX_DEFINITION_BYTES)
    throw new ProblemError(
      'too-large',
      `A pipeline definition may be at most ${MAX_DEFINITION_BYTES} bytes; this one is ${declared}.`,
    );
  const text = await req.text();
  if (Buffer.byteLength(text) > MAX_DEFINITION_BYTES)
    throw new ProblemError(
      'too-large',
      `A pipeline definition may be at most ${MAX_DEFINITION_BYTES} bytes.`,
    );
  if (text.trim() === '')
    throw invalid([
      { pointer: '', message: 'The request body is empty; send the pipeline definition as JSON or YAML.' },
    ]);
  if (isYaml) {
    const src = parseDefinitionText(text);
    return { value: src.value, problems: src.problems };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid([
      {
        pointer: '',
        message: `The body is not valid JSON: ${(e as Error).message}. To send YAML, set Content-Type: application/yaml.`,
      },
    ]);
  }
  // JSON.parse keeps the last of duplicate keys silently; the YAML reader (a JSON superset) reports them.
  const dupes = parseDefinitionText(text).problems.filter((p) => p.message.includes('defined twice'));
  return { value, problems: dupes };
}

/** Every `code` reference must name an uploaded snapshot. */
export async function missingSnapshots(def: PipelineDefinition): Promise<FieldProblem[]> {
  const out: FieldProblem[] = [];
  const checked = new Map<string, boolean>();
  for (const [name, step] of Object.entries(def.steps)) {
    const code = 'code' in step ? step.code : undefined;
    if (!code) continue;
    if (!checked.has(code)) checked.set(code, await snapshotExists(code));
    if (!checked.get(code))
      out.push({
        pointer: pointer(['steps', name, 'code']),
        message: `There is no snapshot ${code}. Upload the directory first (POST /api/snapshots with a tar.gz); \`sluice publish\` does both.`,
      });
  }
  return out;
}

async function publish(req: HttpRequest): Promise<HttpResponseInit> {
  const body = await readDefinitionBody(req);
  if (body.value === undefined && body.problems.length) throw invalid(body.problems, summary(body.problems));
  // `code: { path, include }` → the snapshot of the included files, before anything else reads code.
  const code = await resolveCodeIncludes(body.value);
  const r = validateDefinition(code.value, { requireSnapshotRefs: true });
  const problems = [...body.problems, ...code.problems, ...r.errors];
  if (r.ok)
    problems.push(
      ...computeTargetProblems(r.definition, await listComputeTargetNames()),
      ...(await stepResourceProblems(r.definition.steps, r.definition.settings?.defaultCompute)),
    );
  if (problems.length || !r.ok) throw invalid(problems, summary(problems));
  const missing = await missingSnapshots(r.definition);
  if (missing.length) throw invalid(missing, summary(missing));
  const result = await publishPipeline(r.definition);
  const location = `/api/pipelines/${result.name}/versions/${result.version}`;
  const payload: Record<string, unknown> = {
    name: result.name,
    version: result.version,
    definitionHash: result.definitionHash,
    createdAt: result.createdAt,
    created: result.created,
    enabled: result.enabled,
    url: location,
  };
  // Accepted, but written in a deprecated form: what to change, with a pointer each.
  if (r.warnings?.length) payload.warnings = r.warnings;
  if (!result.created) payload.note = `Identical to version ${result.version}; nothing was stored.`;
  if (!result.enabled)
    payload.note = `${payload.note ? payload.note + ' ' : ''}The pipeline is disabled; PATCH /api/pipelines/${result.name} {"enabled": true} to run it.`;
  return json(result.created ? 201 : 200, payload, { location });
}

/** `GET|POST /api/pipelines` */
export const pipelinesCollectionHandler = httpHandler(async (req) => {
  if (req.method === 'POST') return publish(req);
  if (req.method !== 'GET') methodNotAllowed(req, ['GET', 'POST']);
  const page = await listPipelines(paging(req));
  const body: Record<string, unknown> = { items: page.items };
  if (page.continuationToken) {
    body.continuationToken = page.continuationToken;
    body.next = nextLink(req, page.continuationToken);
  }
  return json(200, body);
});

const PatchSchema = z
  .strictObject({
    defaultVersion: z.union([z.int().min(1), z.literal('latest'), z.null()]).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((p) => p.defaultVersion !== undefined || p.enabled !== undefined, {
    message: 'Nothing to change: send {"defaultVersion": N|"latest"} and/or {"enabled": true|false}.',
  });

/** `GET|PATCH|DELETE /api/pipelines/{name}` */
export const pipelineHandler = httpHandler(async (req) => {
  const name = pipelineName(req);
  if (req.method === 'GET') {
    const [p, versions] = await Promise.all([getPipeline(name), listVersions(name, { limit: 20 })]);
    const body: Record<string, unknown> = { ...p, versions: versions.items };
    if (versions.continuationToken) body.moreVersions = `/api/pipelines/${name}/versions`;
    return json(200, body);
  }
  if (req.method === 'PATCH') {
    const raw = await readJson(req);
    const r = PatchSchema.safeParse(raw);
    if (!r.success)
      throw invalid(
        r.error.issues.map((i) => ({
          pointer: pointer(i.path.map(String)),
          message:
            i.code === 'unrecognized_keys'
              ? `Unknown field(s) ${i.keys.join(', ')}; PATCH accepts defaultVersion and enabled.`
              : i.path[0] === 'defaultVersion'
                ? 'defaultVersion is a version number, "latest" or null.'
                : i.message,
        })),
      );
    const patch: PipelinePatch = {};
    if (r.data.defaultVersion !== undefined) patch.defaultVersion = r.data.defaultVersion;
    if (r.data.enabled !== undefined) patch.enabled = r.data.enabled;
    return json(200, await updatePipeline(name, patch));
  }
  if (req.method === 'DELETE') {
    const p = await updatePipeline(name, { enabled: false });
    return json(200, {
      ...p,
      message:
        `Pipeline "${name}" is disabled: it cannot start new runs, and schedules and queue messages naming it are refused. ` +
        'Its versions, its runs and their data are kept. Re-enable it with PATCH {"enabled": true}.',
    });
  }
  methodNotAllowed(req, ['GET', 'PATCH', 'DELETE']);
});

/** `GET /api/pipelines/{name}/versions` */
export const pipelineVersionsHandler = httpHandler(async (req) => {
  const name = pipelineName(req);
  const page = await listVersions(name, paging(req));
  const body: Record<string, unknown> = { name, items: page.items };
  if (page.continuationToken) {
    body.continuationToken = page.continuationToken;
    body.next = nextLink(req, page.continuationToken);
  }
  return json(200, body);
});

/** `GET /api/pipelines/{name}/versions/{version}` (`latest` and `default` are accepted too). */
export const pipelineVersionHandler = httpHandler(async (req) => {
  const name = pipelineName(req);
  const raw = req.params.version ?? '';
  let version: number | undefined;
  if (raw === 'default') version = undefined;
  else if (raw === 'latest') version = (await getPipeline(name)).latestVersion;
  else if (/^[1-9]\d{0,9}$/.test(raw)) version = Number(raw);
  else
    throw invalid([
      { pointer: '/version', message: `"${raw}" is not a version: use a number, "latest" or "default".` },
    ]);
  return json(200, await getPipelineVersion(name, version));
});
