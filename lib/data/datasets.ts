/**
 * Datasets: named, versioned pointers to content in the store. Cosmos container `datasets`, partition
 * `/name`: one document per version (id `v<n>`) and a head document (id `head`) holding the latest.
 * A registration creates a version only when its content hash differs from the latest one, so
 * re-registering unchanged data is a no-op that answers the existing version.
 */
import { createHash } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';
import { getClients } from '../azure/clients';
import { invalid, notFound, ProblemError } from '../errors/problem';
import { putManifest, putStream, blobName, reuseIfStored, ARTIFACTS_CONTAINER } from './cas';
import { normalizeMode, safeRelativePath, type Manifest, type ManifestEntry } from './hash';
import { mapLimit } from './limit';
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

// ---------------------------------------------------------------------------------------------------
// Content: uploads (a file, or a tar.gz of a directory) and existing blobs in the same account.

const GZIP_TYPES = [
  'application/gzip',
  'application/x-gzip',
  'application/tar+gzip',
  'application/x-tar+gzip',
  'application/x-compressed-tar',
];

export function isGzipType(contentType: string): boolean {
  return GZIP_TYPES.includes(contentType.split(';')[0]!.trim().toLowerCase());
}

/** Registers uploaded content: a tar.gz of a directory when `contentType` is gzip, else one file. */
export async function registerUpload(
  name: string,
  body: Readable,
  contentType: string,
): Promise<RegisterResult> {
  checkName(name);
  const media = contentType.split(';')[0]!.trim().toLowerCase() || 'application/octet-stream';
  if (isGzipType(media)) {
    const dir = await storeTarGz(body);
    return createVersion(
      name,
      { hash: dir.hash, type: 'directory', size: dir.size, files: dir.manifest.length },
      { kind: 'upload', contentType: media },
    );
  }
  const file = await putStream(body);
  if (file.size === 0)
    throw invalid([
      {
        pointer: '',
        message:
          'The request body is empty; send the file bytes, or a tar.gz of a directory with Content-Type application/gzip.',
      },
    ]);
  return createVersion(
    name,
    { hash: file.hash, type: 'file', size: file.size, files: 1 },
    { kind: 'upload', contentType: media },
  );
}

/** Streams a tar.gz into the store entry by entry (no temporary files) and stores its manifest. */
export async function storeTarGz(
  body: Readable,
): Promise<{ hash: string; size: number; manifest: Manifest }> {
  const entries = new Map<string, ManifestEntry>();
  const problems: string[] = [];
  const ex = tarExtract();
  ex.on('entry', (header, stream, next) => {
    const raw = header.name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (header.type === 'directory' || raw === '' || raw === '.') {
      stream.resume();
      return next();
    }
    const path = safeRelativePath(raw);
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      if (
        !['pax-header', 'pax-global-header', 'gnu-long-path', 'gnu-long-link-path'].includes(
          header.type ?? '',
        )
      )
        problems.push(`"${raw}" is a ${header.type}; only regular files and folders are stored`);
      stream.resume();
      return next();
    }
    if (!path) {
      problems.push(`"${raw}" is not a safe relative path`);
      stream.resume();
      return next();
    }
    putStream(stream as unknown as AsyncIterable<Uint8Array>).then(
      (r) => {
        entries.set(path, { path, hash: r.hash, size: r.size, mode: normalizeMode(header.mode ?? 0o644) });
        next();
      },
      (e: unknown) => next(e as Error),
    );
  });
  try {
    await pipeline(body, createGunzip(), ex);
  } catch (e) {
    if (e instanceof ProblemError) throw e;
    throw invalid([
      {
        pointer: '',
        message: `The body is not a readable tar.gz archive (${(e as Error).message}); create one with \`tar -czf data.tgz -C DIR .\`.`,
      },
    ]);
  }
  if (problems.length) throw invalid(problems.map((message) => ({ pointer: '', message })));
  if (entries.size === 0)
    throw invalid([
      { pointer: '', message: 'The archive holds no files; a dataset directory needs at least one file.' },
    ]);
  const m = await putManifest([...entries.values()]);
  return { hash: m.hash, size: m.size, manifest: m.manifest };
}

/**
 * Containers a blob-path registration may not read: Sluice's and the Functions runtime's own (keys live
 * in azure-webjobs-secrets; registering a blob makes it downloadable through the artifacts API).
 * Setting `SLUICE_DATASET_CONTAINERS` (comma-separated) narrows registration to the named containers.
 * @default every container except these
 */
const SYSTEM_CONTAINERS = [
  /^azure-webjobs-/,
  /^\$/,
  /^(artifacts|snapshots|logs)$/,
  /-(leases|largemessages|applease)$/,
];

function containerRefusal(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (SYSTEM_CONTAINERS.some((re) => re.test(name)))
    return `Container "${name}" belongs to Sluice or the Functions runtime; register data from a container of your own.`;
  const allowed = (env.SLUICE_DATASET_CONTAINERS ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (allowed.length && !allowed.includes(name))
    return `Container "${name}" is not open for dataset registration; allowed: ${allowed.join(', ')} (setting SLUICE_DATASET_CONTAINERS).`;
  return undefined;
}

const CONTAINER_RE = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/;

/**
 * Registers blobs already in the storage account: `container/blob` (a file) or `container/prefix` (every
 * blob under `prefix/`, a directory). Bytes are read once to hash them and copied into the store
 * server-side, conditional on the source not changing meanwhile.
 */
export async function registerBlobPath(name: string, path: string): Promise<RegisterResult> {
  checkName(name);
  const ptr = '/path';
  const clean = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const slash = clean.indexOf('/');
  const containerName = slash > 0 ? clean.slice(0, slash) : clean;
  const blobPath = slash > 0 ? clean.slice(slash + 1) : '';
  if (!CONTAINER_RE.test(containerName) || blobPath === '')
    throw invalid([
      {
        pointer: ptr,
        message: `"${path}" is not a blob path: use "container/blob" for a file or "container/folder" for every blob under that folder.`,
      },
    ]);
  const refusal = containerRefusal(containerName);
  if (refusal) throw invalid([{ pointer: ptr, message: refusal }]);
  const src = getClients().blob.getContainerClient(containerName);
  if (!(await src.exists()))
    throw invalid([{ pointer: ptr, message: `The storage account has no container "${containerName}".` }]);
  const single = src.getBlobClient(blobPath);
  const props = await single.getProperties().catch((e: unknown) => {
    if (code(e) === 404) return undefined;
    throw e;
  });
  if (props && props.metadata?.hdi_isfolder !== 'true') {
    const r = await importBlob(containerName, blobPath, props.etag!);
    return createVersion(
      name,
      { hash: r.hash, type: 'file', size: r.size, files: 1 },
      { kind: 'blob', path: clean },
    );
  }
  const prefix = blobPath + '/';
  const found: Array<{ rel: string; name: string }> = [];
  for await (const b of src.listBlobsFlat({ prefix, includeMetadata: true })) {
    if (b.metadata?.hdi_isfolder === 'true') continue;
    const rel = safeRelativePath(b.name.slice(prefix.length));
    if (!rel)
      throw invalid([
        {
          pointer: ptr,
          message: `Blob "${b.name}" has a name that is not a safe relative path under "${prefix}".`,
        },
      ]);
    found.push({ rel, name: b.name });
  }
  if (found.length === 0)
    throw invalid([
      {
        pointer: ptr,
        message: `No blob "${blobPath}" and no blobs under "${prefix}" in container "${containerName}".`,
      },
    ]);
  const entries = await mapLimit(found, 8, async (f): Promise<ManifestEntry> => {
    const p = await src.getBlobClient(f.name).getProperties();
    const r = await importBlob(containerName, f.name, p.etag!);
    return { path: f.rel, hash: r.hash, size: r.size, mode: 0o644 };
  });
  const m = await putManifest(entries);
  return createVersion(
    name,
    { hash: m.hash, type: 'directory', size: m.size, files: entries.length },
    { kind: 'blob', path: clean },
  );
}

/** Hashes one blob by reading it, then copies it under its hash in the store unless already there. */
async function importBlob(
  containerName: string,
  blob: string,
  etag: string,
): Promise<{ hash: string; size: number }> {
  const clients = getClients();
  const source = clients.blob.getContainerClient(containerName).getBlobClient(blob);
  const res = await source.download(0, undefined, { conditions: { ifMatch: etag } });
  const hasher = createHash('sha256');
  let size = 0;
  for await (const chunk of res.readableStreamBody as Readable) {
    hasher.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const hash = 'sha256:' + hasher.digest('hex');
  const store = clients.blob.getContainerClient(ARTIFACTS_CONTAINER);
  await store.createIfNotExists();
  const target = store.getBlockBlobClient(blobName(hash));
  if (await reuseIfStored(hash)) return { hash, size };
  try {
    const poller = await target.beginCopyFromURL(source.url, {
      sourceConditions: { ifMatch: etag },
      conditions: { ifNoneMatch: '*' },
    });
    await poller.pollUntilDone();
  } catch (e) {
    if (code(e) === 409) return { hash, size };
    if (code(e) === 412)
      throw new ProblemError(
        'conflict',
        `Blob ${containerName}/${blob} changed while it was being registered; register it again.`,
      );
    throw e;
  }
  return { hash, size };
}

// ---------------------------------------------------------------------------------------------------
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
