/**
 * Dataset registration from blobs already in the storage account: `container/blob` (a file) or
 * `container/prefix` (every blob under `prefix/`, a directory). Each blob is read once to hash it and
 * copied into the store server-side, conditional on its ETag, so a blob changed meanwhile fails the
 * registration instead of storing bytes that do not match their hash. Sluice's own containers and the
 * Functions runtime's are always refused (setting `SLUICE_DATASET_CONTAINERS` narrows the rest).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { getClients } from '../azure/clients';
import { invalid, ProblemError } from '../errors/problem';
import { ARTIFACTS_CONTAINER, blobName, putManifest, reuseIfStored } from './cas';
import { checkName, createVersion, type RegisterResult } from './datasets';
import { safeRelativePath, type ManifestEntry } from './hash';
import { mapLimit } from './limit';

function code(e: unknown): number | undefined {
  return (e as { code?: number; statusCode?: number }).code ?? (e as { statusCode?: number }).statusCode;
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
