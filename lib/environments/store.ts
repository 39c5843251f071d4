/**
 * Named, versioned environments in Cosmos DB, like pipelines: container `environments`, partition key
 * `/name`; a head document (`environment`) with the latest version, one immutable document per version
 * (`v-0000000001`) holding the spec and its hash. Publishing a spec equal to the latest version's
 * returns that version (idempotent); a different one becomes latest + 1 (the head's etag serialises
 * concurrent publishes). Steps reference `name@3` or `name@latest`.
 */
import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import { ProblemError, invalid, notFound } from '../errors/problem';
import {
  ENVIRONMENT_NAME_RE,
  ENVIRONMENT_REF_RE,
  EnvironmentSpecSchema,
  normalizeSpec,
  specHash,
  type EnvironmentSpec,
} from './spec';

export const ENVIRONMENTS_CONTAINER = 'environments';
const HEAD_ID = 'environment';
const versionId = (v: number): string => 'v-' + String(v).padStart(10, '0');

interface HeadDoc {
  id: typeof HEAD_ID;
  type: 'environment';
  name: string;
  description?: string;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  _etag?: string;
}

export interface EnvironmentVersion {
  name: string;
  version: number;
  specHash: string;
  spec: EnvironmentSpec;
  description?: string;
  createdAt: string;
}

interface VersionDoc extends EnvironmentVersion {
  id: string;
  type: 'version';
}

export interface EnvironmentSummary {
  name: string;
  description?: string;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

const container = (): Promise<Container> => getClients().container(ENVIRONMENTS_CONTAINER, '/name');

async function read<T extends object>(
  c: Container,
  id: string,
  name: string,
): Promise<(T & { _etag?: string }) | undefined> {
  try {
    return (await c.item(id, name).read<T>()).resource ?? undefined;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

/**
 * Validates a publish: the name (from the path) and the body `{spec, description?}` (a bare spec is
 * accepted too), every problem at once, with pointers.
 */
export function parsePublish(
  name: string,
  body: unknown,
): { name: string; description?: string; spec: EnvironmentSpec } {
  const problems: Array<{ pointer: string; message: string }> = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid([{ pointer: '', message: 'the body is a JSON object {spec, description?}' }]);
  const b = 'spec' in body ? (body as Record<string, unknown>) : { spec: body };
  for (const k of Object.keys(b))
    if (!['description', 'spec'].includes(k))
      problems.push({
        pointer: `/${k}`,
        message: `unknown field "${k}"; the fields are spec and description`,
      });
  if (!ENVIRONMENT_NAME_RE.test(name))
    problems.push({
      pointer: '/name',
      message: `"${name}" is not an environment name: lowercase letters, digits, ".", "_" or "-" (at most 63)`,
    });
  if (b.description !== undefined && (typeof b.description !== 'string' || b.description.length > 2000))
    problems.push({ pointer: '/description', message: 'a description is text of at most 2000 characters' });
  const r = EnvironmentSpecSchema.safeParse(b.spec);
  if (!r.success)
    for (const i of r.error.issues)
      problems.push({ pointer: '/spec' + i.path.map((p) => `/${String(p)}`).join(''), message: i.message });
  else
    for (const p of normalizeSpec(r.data).problems)
      problems.push({ pointer: '/spec' + p.path.map((x) => `/${String(x)}`).join(''), message: p.message });
  if (problems.length) throw invalid(problems);
  return {
    name,
    ...(typeof b.description === 'string' ? { description: b.description } : {}),
    spec: r.data!,
  };
}

export async function publishEnvironment(
  input: { name: string; description?: string; spec: EnvironmentSpec },
  now: () => Date = () => new Date(),
): Promise<EnvironmentVersion & { created: boolean }> {
  const c = await container();
  const hash = specHash(normalizeSpec(input.spec).spec);
  for (let attempt = 0; attempt < 30; attempt++) {
    const head = await read<HeadDoc>(c, HEAD_ID, input.name);
    if (head) {
      const latest = await read<VersionDoc>(c, versionId(head.latestVersion), input.name);
      if (latest?.specHash === hash) return { ...strip(latest), created: false };
    }
    const at = now().toISOString();
    const version = (head?.latestVersion ?? 0) + 1;
    const newHead: HeadDoc = {
      id: HEAD_ID,
      type: 'environment',
      name: input.name,
      latestVersion: version,
      createdAt: head?.createdAt ?? at,
      updatedAt: at,
      ...(input.description ? { description: input.description } : {}),
    };
    const doc: VersionDoc = {
      id: versionId(version),
      type: 'version',
      name: input.name,
      version,
      specHash: hash,
      spec: input.spec,
      createdAt: at,
      ...(input.description ? { description: input.description } : {}),
    };
    try {
      // The head write is the serialisation point; the version document follows it (a crash between the
      // two leaves a head pointing at a missing version, which the next publish of that name repairs).
      if (head)
        await c
          .item(HEAD_ID, input.name)
          .replace(newHead, { accessCondition: { type: 'IfMatch', condition: head._etag! } });
      else await c.items.create(newHead);
      await c.items.upsert(doc);
      return { ...strip(doc), created: true };
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code !== 409 && code !== 412) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * (10 + attempt * 10)));
    }
  }
  throw new ProblemError(
    'unavailable',
    `Too many concurrent publishes of environment "${input.name}"; retry.`,
  );
}

function strip(d: VersionDoc): EnvironmentVersion {
  const out: EnvironmentVersion = {
    name: d.name,
    version: d.version,
    specHash: d.specHash,
    spec: d.spec,
    createdAt: d.createdAt,
  };
  if (d.description) out.description = d.description;
  return out;
}

export async function getEnvironment(
  name: string,
): Promise<
  EnvironmentSummary & { versions: Array<{ version: number; specHash: string; createdAt: string }> }
> {
  const c = await container();
  const head = await read<HeadDoc>(c, HEAD_ID, name);
  if (!head)
    throw notFound(
      `There is no environment "${name}". Publish one with \`sluice environments publish ${name} FILE\`.`,
    );
  const { resources } = await c.items
    .query<{ version: number; specHash: string; createdAt: string }>(
      {
        query:
          "SELECT c.version, c.specHash, c.createdAt FROM c WHERE c.name = @n AND c.type = 'version' ORDER BY c.version DESC",
        parameters: [{ name: '@n', value: name }],
      },
      { partitionKey: name },
    )
    .fetchAll();
  return { ...summary(head), versions: resources };
}

function summary(h: HeadDoc): EnvironmentSummary {
  return {
    name: h.name,
    latestVersion: h.latestVersion,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    ...(h.description ? { description: h.description } : {}),
  };
}

export async function listEnvironments(): Promise<EnvironmentSummary[]> {
  const c = await container();
  const { resources } = await c.items
    .query<HeadDoc>({ query: "SELECT * FROM c WHERE c.type = 'environment' ORDER BY c.name" })
    .fetchAll();
  return resources.map(summary);
}

/** One version (`latest` or a number). 404 names the versions that exist. */
export async function getEnvironmentVersion(
  name: string,
  version: number | 'latest',
): Promise<EnvironmentVersion> {
  const c = await container();
  const head = await read<HeadDoc>(c, HEAD_ID, name);
  if (!head)
    throw notFound(
      `There is no environment "${name}". Publish one with \`sluice environments publish ${name} FILE\`.`,
    );
  const v = version === 'latest' ? head.latestVersion : version;
  const doc = v >= 1 && v <= head.latestVersion ? await read<VersionDoc>(c, versionId(v), name) : undefined;
  if (!doc)
    throw notFound(`Environment "${name}" has no version ${v}; its versions are 1 to ${head.latestVersion}.`);
  return strip(doc);
}

/** `name@3` / `name@latest` → the stored version. */
export async function resolveEnvironmentRef(ref: string): Promise<EnvironmentVersion> {
  const m = ENVIRONMENT_REF_RE.exec(ref);
  if (!m) throw invalid([{ pointer: '', message: `"${ref}" is not name@version or name@latest` }]);
  return getEnvironmentVersion(m[1]!, m[2] === 'latest' ? 'latest' : Number(m[2]));
}
