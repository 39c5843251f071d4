/**
 * HTTP handlers for /api/datasets… and /api/artifacts…; registered in functions/datasets.ts and
 * functions/artifacts.ts.
 */
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { invalid } from '../errors/problem';
import { httpHandler, json, readJson } from '../http/handler';
import { artifactType, openFile, readManifest, fileInDirectory, type ArtifactType } from './cas';
import { asProblems } from './errors';
import { registerBlobPath } from './dataset-blob-path';
import { registerUpload } from './dataset-upload';
import { getDataset, getDatasetVersion, listDatasets, checkName, type RegisterResult } from './datasets';
import { isHash } from './hash';
import { getLineage } from './lineage';
import { nextLink, paging } from '../http/paging';

function mediaType(req: HttpRequest): string {
  return (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

function registered(r: RegisterResult): HttpResponseInit {
  const v = r.version;
  const location = `/api/datasets/${encodeURIComponent(v.name)}/versions/${v.version}`;
  return json(
    r.created ? 201 : 200,
    { ...v, ref: `${v.name}@${v.version}`, created: r.created },
    { location },
  );
}

/** POST /api/datasets/{name}: upload content (file, or tar.gz) or `{ "path": "container/blob/prefix" }`. */
export const datasetPostHandler = httpHandler(async (req) => {
  const name = req.params.name ?? '';
  checkName(name);
  const type = mediaType(req);
  if (type === 'application/json' || type.endsWith('+json')) {
    const body = await readJson(req);
    const path = (body as { path?: unknown } | null)?.path;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw invalid([
        {
          pointer: '',
          message:
            'Send { "path": "container/blob/prefix" } to register blobs, or the content itself with a non-JSON Content-Type.',
        },
      ]);
    const extra = Object.keys(body).filter((k) => k !== 'path');
    const problems = extra.map((k) => ({
      pointer: `/${k}`,
      message: `Unknown field "${k}"; the only field is "path".`,
    }));
    if (typeof path !== 'string' || path.trim() === '')
      problems.unshift({
        pointer: '/path',
        message: 'path is required: a string "container/blob" (a file) or "container/folder" (a directory).',
      });
    if (problems.length) throw invalid(problems);
    return registered(await asProblems(() => registerBlobPath(name, path as string), '/path'));
  }
  if (!req.body)
    throw invalid([
      {
        pointer: '',
        message:
          'The request body is empty; send the file bytes, or a tar.gz of a directory with Content-Type application/gzip.',
      },
    ]);
  const stream = Readable.fromWeb(req.body as import('node:stream/web').ReadableStream<Uint8Array>);
  return registered(await asProblems(() => registerUpload(name, stream, type)));
});

/** GET /api/datasets (paged). */
export const datasetsListHandler = httpHandler(async (req) => {
  const page = await listDatasets(paging(req));
  const next = nextLink(req, page.continuationToken);
  return json(200, {
    items: page.items,
    ...(page.continuationToken ? { continuationToken: page.continuationToken, next } : {}),
  });
});

/** GET /api/datasets/{name}: latest version and a page of versions (newest first). */
export const datasetGetHandler = httpHandler(async (req) => {
  const d = await getDataset(req.params.name ?? '', paging(req));
  const next = nextLink(req, d.continuationToken);
  return json(200, { ...d, ...(next ? { next } : {}) });
});

/** GET /api/datasets/{name}/versions/{version} (a number or "latest"). */
export const datasetVersionHandler = httpHandler(async (req) => {
  const raw = req.params.version ?? '';
  if (raw !== 'latest' && !/^[1-9][0-9]{0,8}$/.test(raw))
    throw invalid([
      { pointer: '/version', message: `"${raw}" is not a version: use a positive integer or "latest".` },
    ]);
  const v = await getDatasetVersion(req.params.name ?? '', raw === 'latest' ? 'latest' : Number(raw));
  return json(200, { ...v, ref: `${v.name}@${v.version}` });
});

function hashParam(req: HttpRequest): string {
  const raw = decodeURIComponent(req.params.hash ?? '');
  const hash = /^[0-9a-f]{64}$/.test(raw) ? `sha256:${raw}` : raw;
  if (!isHash(hash))
    throw invalid([
      {
        pointer: '/hash',
        message: `"${raw.slice(0, 100)}" is not a content hash: use sha256:<64 lowercase hex digits>.`,
      },
    ]);
  return hash;
}

/**
 * The HTTP response for a stored artifact: a file's bytes (streamed, verified), a directory's manifest
 * JSON, or with `path` one file inside a directory. Exported for the run outputs endpoint (lib/runs).
 */
export async function artifactResponse(
  hash: string,
  type?: ArtifactType,
  path?: string | null,
): Promise<HttpResponseInit> {
  return asProblems(async () => {
    const kind = type ?? (await artifactType(hash)).type;
    if (path) {
      if (kind !== 'directory')
        throw invalid([
          { pointer: '/path', message: `${hash} is a file; ?path= selects a file inside a directory.` },
        ]);
      const entry = await fileInDirectory(hash, path);
      return fileResponse(entry.hash, entry.path);
    }
    if (kind === 'directory') {
      const manifest = await readManifest(hash);
      return json(200, manifest, {
        etag: `"${hash}"`,
        'cache-control': 'public, max-age=31536000, immutable',
        'x-sluice-artifact-type': 'directory',
      });
    }
    return fileResponse(hash);
  }, '/path');
}

async function fileResponse(hash: string, name?: string): Promise<HttpResponseInit> {
  const f = await openFile(hash);
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(f.size),
    etag: `"${hash}"`,
    'cache-control': 'public, max-age=31536000, immutable',
    'x-sluice-artifact-type': 'file',
  };
  if (name)
    headers['content-disposition'] = `attachment; filename="${name
      .split('/')
      .pop()!
      .replace(/["\\\r\n]/g, '_')}"`;
  return { status: 200, headers, body: f.stream };
}

/** GET /api/artifacts/{hash}[?path=a/b.txt] */
export const artifactHandler = httpHandler(async (req) => {
  const hash = hashParam(req);
  return artifactResponse(hash, undefined, req.query.get('path'));
});

/** GET /api/artifacts/{hash}/lineage */
export const artifactLineageHandler = httpHandler(async (req) => {
  const hash = hashParam(req);
  return json(200, await getLineage(hash));
});
