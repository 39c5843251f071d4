/**
 * Datasets: named, versioned pointers to content in the store. Cosmos container `datasets`, partition
 * `/name`: one document per version (id `v<n>`) and a head document (id `head`) holding the latest.
 * A registration creates a version only when its content hash differs from the latest one, so
 * re-registering unchanged data is a no-op that answers the existing version.
 *
 * This module is the version store: creating versions of content already stored, reading them, and
 * resolving `name@version` references. Content reaches the store first through `dataset-upload.ts`
 * (request bodies) or `dataset-blob-path.ts` (blobs already in the account), or is a run's output.
 */
import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import { invalid, notFound, ProblemError } from '../errors/problem';
import { queryPage, type Page } from '../azure/cosmos-page';

export const DATASETS_CONTAINER = 'datasets';
export const DATASET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const DATASET_NAME_RULE = '1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Where a dataset version's content came from. */
export type DatasetSource =
  | { kind: 'upload'; contentType: string }
  | { kind: 'blob'; path: string }
  | { kind: 'run'; runId: string; step: string; output?: string };

export interface DatasetVersion {
  name: string;
  version: number;
  /** `sha256:<hex>` of the file, or of the directory manifest. */
  hash: string;
  type: 'file' | 'directory';
  /** Bytes of content. */
  size: number;
  /** Files (1 for a file dataset). */
  files: number;
  source: DatasetSource;
  createdAt: string;
}

export interface DatasetRef {
  name: string;
  version: number;
  hash: string;
  type: 'file' | 'directory';
}

export interface RegisterResult {
  /** False when the content equals the latest version, which is returned instead. */
  created: boolean;
  version: DatasetVersion;
}

interface VersionDoc extends DatasetVersion {
  id: string;
  kind: 'version';
}

interface HeadDoc {
  id: 'head';
  kind: 'head';
  name: string;
  latest: DatasetVersion;
  versions: number;
  updatedAt: string;
  _etag?: string;
}

export type { Page } from '../azure/cosmos-page';

function datasets(): Promise<Container> {
  return getClients().container(DATASETS_CONTAINER, '/name');
}

export function checkName(name: string, ptr = '/name'): void {
  if (!DATASET_NAME_RE.test(name))
    throw invalid([
      { pointer: ptr, message: `"${name.slice(0, 140)}" is not a dataset name: use ${DATASET_NAME_RULE}.` },
    ]);
}

function strip<T extends object>(doc: T): DatasetVersion {
  const { name, version, hash, type, size, files, source, createdAt } = doc as unknown as DatasetVersion;
  return { name, version, hash, type, size, files, source, createdAt };
}

async function readHead(c: Container, name: string): Promise<HeadDoc | undefined> {
  const r = await c.item('head', name).read<HeadDoc>();
  return r.resource && r.statusCode !== 404 ? r.resource : undefined;
}

function code(e: unknown): number | undefined {
  return (e as { code?: number; statusCode?: number }).code ?? (e as { statusCode?: number }).statusCode;
}

/**
 * Records content already in the store as the next version of `name`, unless it equals the latest.
 * Safe under concurrency: version ids are unique, so two writers of version n cannot both succeed;
 * the loser re-checks (equal content → the winner's version) and takes n+1 otherwise.
 */
export async function createVersion(
  name: string,
  content: { hash: string; type: 'file' | 'directory'; size: number; files: number },
  source: DatasetSource,
): Promise<RegisterResult> {
  checkName(name);
  const c = await datasets();
  const head = await readHead(c, name);
  if (head?.latest.hash === content.hash) return { created: false, version: head.latest };
  let n = (head?.latest.version ?? 0) + 1;
  let created: DatasetVersion | undefined;
  for (let attempt = 0; attempt < 50 && !created; attempt++, n++) {
    const doc: VersionDoc = {
      id: `v${n}`,
      kind: 'version',
      name,
      version: n,
      ...content,
      source,
      createdAt: new Date().toISOString(),
    };
    try {
      await c.items.create(doc);
      created = strip(doc);
    } catch (e) {
      if (code(e) !== 409) throw e;
      const other = (await c.item(`v${n}`, name).read<VersionDoc>()).resource;
      // The head may lag the versions; equal content at the newest existing version is "unchanged".
      if (other?.hash === content.hash && !(await c.item(`v${n + 1}`, name).read<VersionDoc>()).resource) {
        await advanceHead(c, name, strip(other));
        return { created: false, version: strip(other) };
      }
    }
  }
  if (!created)
    throw new ProblemError('conflict', `Dataset ${name} is being changed by many writers at once; retry.`);
  await advanceHead(c, name, created);
  return { created: true, version: created };
}

/** Moves the head forward to `v` (never backward), with ETag conditions. */
async function advanceHead(c: Container, name: string, v: DatasetVersion): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const head = await readHead(c, name);
    if (head && head.latest.version >= v.version) return;
    const doc: HeadDoc = {
      id: 'head',
      kind: 'head',
      name,
      latest: v,
      versions: v.version,
      updatedAt: new Date().toISOString(),
    };
    try {
      if (!head) await c.items.create(doc);
      else
        await c
          .item('head', name)
          .replace(doc, { accessCondition: { type: 'IfMatch', condition: head._etag! } });
      return;
    } catch (e) {
      if (code(e) !== 409 && code(e) !== 412) throw e;
    }
  }
}

// Reading.

export interface DatasetSummary {
  name: string;
  latest: DatasetVersion;
  versions: number;
  updatedAt: string;
}

/** All datasets with their latest version, paged with continuation tokens. */
export async function listDatasets(
  opts: { limit?: number; continuationToken?: string } = {},
): Promise<Page<DatasetSummary>> {
  const c = await datasets();
  const page = await queryPage<HeadDoc>(
    c,
    { query: "SELECT * FROM c WHERE c.kind = 'head'" },
    {
      limit: opts.limit ?? 50,
      ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}),
    },
  );
  return {
    ...page,
    items: page.items.map((h) => ({
      name: h.name,
      latest: strip(h.latest),
      versions: h.versions,
      updatedAt: h.updatedAt,
    })),
  };
}

/** One dataset: its latest version and a page of versions, newest first. */
export async function getDataset(
  name: string,
  opts: { limit?: number; continuationToken?: string } = {},
): Promise<DatasetSummary & { items: DatasetVersion[]; continuationToken?: string }> {
  checkName(name);
  const c = await datasets();
  const head = await readHead(c, name);
  if (!head)
    throw notFound(
      `There is no dataset "${name}"; register one with \`sluice datasets register ${name} PATH\`.`,
    );
  const page = await queryPage<VersionDoc>(
    c,
    {
      query: "SELECT * FROM c WHERE c.name = @n AND c.kind = 'version' ORDER BY c.version DESC",
      parameters: [{ name: '@n', value: name }],
    },
    {
      limit: opts.limit ?? 50,
      partitionKey: name,
      ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}),
    },
  );
  return {
    name,
    latest: strip(head.latest),
    versions: head.versions,
    updatedAt: head.updatedAt,
    items: page.items.map(strip),
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  };
}

/** One version (`version` a number, or "latest"). */
export async function getDatasetVersion(name: string, version: number | 'latest'): Promise<DatasetVersion> {
  checkName(name);
  const c = await datasets();
  if (version === 'latest') {
    const head = await readHead(c, name);
    if (!head)
      throw notFound(
        `There is no dataset "${name}"; register one with \`sluice datasets register ${name} PATH\`.`,
      );
    return strip(head.latest);
  }
  const r = await c.item(`v${version}`, name).read<VersionDoc>();
  if (!r.resource || r.statusCode === 404) {
    const head = await readHead(c, name);
    throw notFound(
      head
        ? `Dataset "${name}" has no version ${version}; its versions are 1 to ${head.latest.version}.`
        : `There is no dataset "${name}"; register one with \`sluice datasets register ${name} PATH\`.`,
    );
  }
  return strip(r.resource);
}

/** Parses `name@3`, `name@latest` (or a bare `name`, meaning latest); a 400 names the expected form. */
export function parseDatasetRef(ref: string, ptr = ''): { name: string; version: number | 'latest' } {
  const m = /^([^@]+)(?:@(latest|[1-9][0-9]{0,8}))?$/.exec(typeof ref === 'string' ? ref.trim() : '');
  if (!m || !DATASET_NAME_RE.test(m[1]!))
    throw invalid([
      {
        pointer: ptr,
        message: `"${String(ref).slice(0, 140)}" is not a dataset reference: use NAME@VERSION (e.g. churn@3) or NAME@latest, where NAME is ${DATASET_NAME_RULE}.`,
      },
    ]);
  return { name: m[1]!, version: m[2] === undefined || m[2] === 'latest' ? 'latest' : Number(m[2]) };
}

/**
 * Resolves a dataset reference for a run binding: `name@3` or `name@latest` → the content it names.
 * ProblemError 400 for a malformed reference, 404 for an unknown dataset or version.
 */
export async function resolveDatasetRef(ref: string, ptr = ''): Promise<DatasetRef> {
  const { name, version } = parseDatasetRef(ref, ptr);
  const v = await getDatasetVersion(name, version);
  return { name: v.name, version: v.version, hash: v.hash, type: v.type };
}
