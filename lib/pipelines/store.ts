import type { Container, OperationInput } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import { ProblemError, conflict, invalid, notFound } from '../errors/problem';
import { canonicalJson, contentHash } from './canonical';
import type { PipelineDefinition } from './schema';
import { queryPage, type Page } from '../azure/cosmos-page';
import { readDraft } from './drafts';

/**
 * Pipeline versions in Cosmos DB. Container `pipelines`, partition key `/name`: everything about one
 * pipeline lives in one logical partition, so a publish is a single transactional batch and every
 * per-pipeline read is a point read or a single-partition query. Three document types:
 *
 * - `pipeline` (id "pipeline"): the head — latest version, pinned default, enabled flag. Its etag is the
 *   serialisation point for publishing: a batch replaces it with IfMatch, so of two concurrent
 *   publishes exactly one wins each version number and the other retries with the next one.
 * - `version` (id "v-0000000001"): one immutable document per version, holding the definition.
 * - `hash` (id "h-<sha256 hex>"): definitionHash → version, so an identical republish is a point read.
 *
 * The batch writes the head first: if its IfMatch fails nothing else is applied, even on emulators whose
 * batches are not atomic.
 */

export const PIPELINES_CONTAINER = 'pipelines';
const HEAD_ID = 'pipeline';
const versionId = (v: number): string => 'v-' + String(v).padStart(10, '0');
const hashId = (hash: string): string => 'h-' + hash.replace(/^sha256:/, '');

/** How many times a publish retries after losing a race for the next version number. @default 50 */
const MAX_PUBLISH_ATTEMPTS = 50;

export interface PipelineHead {
  id: typeof HEAD_ID;
  type: 'pipeline';
  name: string;
  description?: string;
  latestVersion: number;
  /** A pinned default version; null means "the latest". */
  pinnedVersion: number | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  disabledAt?: string;
  _etag?: string;
}

export interface PipelineVersionDoc {
  id: string;
  type: 'version';
  name: string;
  version: number;
  definitionHash: string;
  definition: PipelineDefinition;
  createdAt: string;
}

interface HashDoc {
  id: string;
  type: 'hash';
  name: string;
  version: number;
}

export interface PublishResult {
  name: string;
  version: number;
  definitionHash: string;
  createdAt: string;
  /** False when an identical definition was already stored as `version`. */
  created: boolean;
  enabled: boolean;
}

/** The public view of a pipeline. */
export interface PipelineSummary {
  name: string;
  description?: string;
  latestVersion: number;
  defaultVersion: number;
  pinnedVersion: number | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  disabledAt?: string;
}

export interface VersionSummary {
  version: number;
  definitionHash: string;
  createdAt: string;
}

export type { Page } from '../azure/cosmos-page';

export async function pipelinesContainer(): Promise<Container> {
  return getClients().container(PIPELINES_CONTAINER, '/name');
}

/** The hash that identifies a definition's content (without `$schema`, which is editor metadata). */
export function definitionHash(def: PipelineDefinition): string {
  const { $schema: _ignored, ...rest } = def;
  return contentHash(rest);
}

function summarize(h: PipelineHead): PipelineSummary {
  const s: PipelineSummary = {
    name: h.name,
    latestVersion: h.latestVersion,
    defaultVersion: h.pinnedVersion ?? h.latestVersion,
    pinnedVersion: h.pinnedVersion,
    enabled: h.enabled,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
  };
  if (h.description) s.description = h.description;
  if (h.disabledAt) s.disabledAt = h.disabledAt;
  return s;
}

async function readDoc<T extends object>(
  c: Container,
  id: string,
  name: string,
): Promise<(T & { _etag?: string }) | undefined> {
  try {
    const r = await c.item(id, name).read<T>();
    return r.resource ?? undefined;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stores a validated definition as the next version, or returns the existing version with the same
 * content (idempotent). Concurrent publishes of different definitions get distinct consecutive versions.
 */
export async function publishPipeline(
  def: PipelineDefinition,
  now: () => Date = () => new Date(),
): Promise<PublishResult> {
  const c = await pipelinesContainer();
  const name = def.name;
  const hash = definitionHash(def);
  const { $schema: _ignored, ...stored } = def;
  for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt++) {
    // Head first, then the hash: a publish of this hash committed after the head read has changed the
    // head's etag, so our batch fails at its first operation instead of storing a duplicate version.
    const head = await readDoc<PipelineHead>(c, HEAD_ID, name);
    const existing = await readDoc<HashDoc>(c, hashId(hash), name);
    if (existing) {
      const v = await readDoc<PipelineVersionDoc>(c, versionId(existing.version), name);
      if (v)
        return {
          name,
          version: v.version,
          definitionHash: hash,
          createdAt: v.createdAt,
          created: false,
          enabled: head?.enabled ?? true,
        };
    }
    const at = now().toISOString();
    const version = (head?.latestVersion ?? 0) + 1;
    const newHead: PipelineHead = {
      id: HEAD_ID,
      type: 'pipeline',
      name,
      latestVersion: version,
      pinnedVersion: head?.pinnedVersion ?? null,
      enabled: head?.enabled ?? true,
      createdAt: head?.createdAt ?? at,
      updatedAt: at,
    };
    if (def.description) newHead.description = def.description;
    if (head?.disabledAt) newHead.disabledAt = head.disabledAt;
    const versionDoc: PipelineVersionDoc = {
      id: versionId(version),
      type: 'version',
      name,
      version,
      definitionHash: hash,
      definition: JSON.parse(canonicalJson(stored)) as PipelineDefinition,
      createdAt: at,
    };
    const hashDoc: HashDoc = { id: hashId(hash), type: 'hash', name, version };
    const ops: OperationInput[] = [
      head
        ? {
            operationType: 'Replace',
            id: HEAD_ID,
            resourceBody: newHead as never,
            ifMatch: head._etag!,
            partitionKey: name,
          }
        : { operationType: 'Create', resourceBody: newHead as never, partitionKey: name },
      { operationType: 'Create', resourceBody: hashDoc as never, partitionKey: name },
      { operationType: 'Create', resourceBody: versionDoc as never, partitionKey: name },
    ];
    const ok = await runBatch(c, ops, name);
    if (ok)
      return { name, version, definitionHash: hash, createdAt: at, created: true, enabled: newHead.enabled };
    // Lost the race for this version number (or for this hash): back off briefly and look again.
    await sleep(Math.floor(Math.random() * (5 + attempt * 5)));
  }
  throw new ProblemError(
    'unavailable',
    `Too many concurrent publishes of "${name}"; ${MAX_PUBLISH_ATTEMPTS} attempts lost the race. Retry the publish.`,
  );
}

/** True when every operation applied; false on a 409/412 race; throws on anything else. */
async function runBatch(c: Container, ops: OperationInput[], pk: string): Promise<boolean> {
  let results;
  try {
    const r = await c.items.batch(ops, pk);
    results = r.result ?? [];
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === 409 || code === 412) return false;
    throw e;
  }
  const failed = results.find((r) => r.statusCode >= 400 && r.statusCode !== 424);
  if (!failed) return results.length === ops.length;
  if (failed.statusCode === 409 || failed.statusCode === 412) return false;
  throw new Error(`Cosmos batch failed with status ${failed.statusCode}`);
}

export async function getPipeline(name: string): Promise<PipelineSummary> {
  const head = await readHead(name);
  return summarize(head);
}

async function readHead(name: string): Promise<PipelineHead> {
  const c = await pipelinesContainer();
  const head = await readDoc<PipelineHead>(c, HEAD_ID, name);
  if (!head)
    throw notFound(
      `There is no pipeline "${name}". List pipelines with GET /api/pipelines, or publish one with \`sluice publish FILE\`.`,
    );
  return head;
}

const PAGE_MAX = 100;

function pageSize(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX)
    throw invalid([
      { pointer: '/limit', message: `limit must be an integer from 1 to ${PAGE_MAX}; got ${String(limit)}.` },
    ]);
  return limit;
}

/** Pipelines (head documents) by name, paged with continuation tokens. */
export async function listPipelines(
  opts: { limit?: number; continuationToken?: string } = {},
): Promise<Page<PipelineSummary>> {
  const c = await pipelinesContainer();
  const page = await queryPage<PipelineHead>(
    c,
    { query: "SELECT * FROM c WHERE c.type = 'pipeline' ORDER BY c.name" },
    {
      limit: pageSize(opts.limit, 50),
      ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}),
    },
  );
  return { ...page, items: page.items.map(summarize) };
}

/** A pipeline's versions, newest first, paged. */
export async function listVersions(
  name: string,
  opts: { limit?: number; continuationToken?: string } = {},
): Promise<Page<VersionSummary>> {
  await readHead(name);
  const c = await pipelinesContainer();
  return queryPage<VersionSummary>(
    c,
    {
      query:
        "SELECT c.version, c.definitionHash, c.createdAt FROM c WHERE c.name = @name AND c.type = 'version' ORDER BY c.version DESC",
      parameters: [{ name: '@name', value: name }],
    },
    {
      limit: pageSize(opts.limit, 50),
      partitionKey: name,
      ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}),
    },
  );
}

export interface ResolvedPipelineVersion {
  name: string;
  version: number;
  definitionHash: string;
  definition: PipelineDefinition;
  createdAt: string;
  /** False after DELETE or PATCH {enabled:false}. */
  enabled: boolean;
  /** Whether `version` is the pipeline's default (what a run without a version uses). */
  isDefault: boolean;
}

/**
 * The stored definition of a version (the default version when `version` is omitted). For RUNS: a run
 * starts from this. 404 when the pipeline or version does not exist; with `requireEnabled`, 409 when the
 * pipeline is disabled.
 */
export async function getPipelineVersion(
  name: string,
  version?: number,
  opts: {
    /** Throw 409 if the pipeline is disabled. @default false */
    requireEnabled?: boolean;
  } = {},
): Promise<ResolvedPipelineVersion> {
  // A negative version is a draft (lib/pipelines/drafts.ts): a definition run without publishing.
  if (version !== undefined && version < 0) {
    const d = await readDraft(await pipelinesContainer(), name, -version);
    const [hash, definition, createdAt] = [d.definitionHash, d.definition, d.createdAt];
    return { name, version, definitionHash: hash, definition, createdAt, enabled: true, isDefault: false };
  }
  const head = await readHead(name);
  if (opts.requireEnabled && !head.enabled)
    throw conflict(
      `Pipeline "${name}" is disabled${head.disabledAt ? ` (since ${head.disabledAt})` : ''}, so it cannot start runs. ` +
        `Re-enable it with PATCH /api/pipelines/${name} {"enabled": true}.`,
      { pipeline: name, enabled: false },
    );
  const defaultVersion = head.pinnedVersion ?? head.latestVersion;
  const v = version ?? defaultVersion;
  if (!Number.isInteger(v) || v < 1 || v > head.latestVersion)
    throw notFound(
      `Pipeline "${name}" has no version ${String(v)}; its versions are 1 to ${head.latestVersion} (default ${defaultVersion}).`,
    );
  const c = await pipelinesContainer();
  const doc = await readDoc<PipelineVersionDoc>(c, versionId(v), name);
  if (!doc) throw notFound(`Pipeline "${name}" has no version ${v}; its latest is ${head.latestVersion}.`);
  return {
    name,
    version: doc.version,
    definitionHash: doc.definitionHash,
    definition: doc.definition,
    createdAt: doc.createdAt,
    enabled: head.enabled,
    isDefault: doc.version === defaultVersion,
  };
}

export interface PipelinePatch {
  /** A version number to pin, or null / "latest" to follow the latest. */
  defaultVersion?: number | 'latest' | null;
  enabled?: boolean;
}

/** Applies a PATCH with an etag-checked replace, retrying when a publish lands in between. */
export async function updatePipeline(
  name: string,
  patch: PipelinePatch,
  now: () => Date = () => new Date(),
): Promise<PipelineSummary> {
  const c = await pipelinesContainer();
  for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt++) {
    const head = await readHead(name);
    const next: PipelineHead = { ...head, updatedAt: now().toISOString() };
    if (patch.defaultVersion !== undefined) {
      const dv = patch.defaultVersion;
      if (dv === null || dv === 'latest') next.pinnedVersion = null;
      else if (dv > head.latestVersion)
        throw invalid([
          {
            pointer: '/defaultVersion',
            message: `Pipeline "${name}" has no version ${dv}; its versions are 1 to ${head.latestVersion}. Use "latest" to follow new versions.`,
          },
        ]);
      else next.pinnedVersion = dv;
    }
    if (patch.enabled !== undefined && patch.enabled !== head.enabled) {
      next.enabled = patch.enabled;
      if (patch.enabled) delete next.disabledAt;
      else next.disabledAt = next.updatedAt;
    }
    delete next._etag;
    for (const k of Object.keys(next))
      if (k.startsWith('_')) delete (next as unknown as Record<string, unknown>)[k];
    try {
      const r = await c
        .item(HEAD_ID, name)
        .replace(next, { accessCondition: { type: 'IfMatch', condition: head._etag! } });
      return summarize(r.resource as PipelineHead);
    } catch (e) {
      if ((e as { code?: number }).code !== 412) throw e;
    }
  }
  throw new ProblemError('unavailable', `Pipeline "${name}" is changing too often to update; retry.`);
}
