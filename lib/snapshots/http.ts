import { ProblemError } from '../errors/problem';
import { httpHandler, json } from '../http/handler';
import { snapshotLimits } from './limits';
import { getSnapshotManifest, storeSnapshot } from './store';

/** HTTP handlers for /api/snapshots…; registered in functions/snapshots.ts. */

/** `POST /api/snapshots`: body = tar.gz of a directory → 201 (new) or 200 (already stored). */
export const snapshotUploadHandler = httpHandler(async (req) => {
  const limits = snapshotLimits();
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limits.maxCompressedBytes)
    throw new ProblemError(
      'too-large',
      `The archive is ${declared} bytes; snapshots may be at most ${limits.maxCompressedBytes} bytes compressed. ` +
        'Add large files to .sluiceignore and pass data as a dataset, or raise SLUICE_SNAPSHOT_MAX_COMPRESSED_BYTES.',
      undefined,
      { limit: limits.maxCompressedBytes, setting: 'SLUICE_SNAPSHOT_MAX_COMPRESSED_BYTES' },
    );
  const archive = Buffer.from(await req.arrayBuffer());
  const r = await storeSnapshot(archive, limits);
  return json(r.created ? 201 : 200, r, { location: `/api/snapshots/${r.hash}` });
});

/** `GET /api/snapshots/{hash}`: the manifest (paths, sizes, modes, content hashes). */
export const snapshotManifestHandler = httpHandler(async (req) => {
  const hash = req.params.hash ?? '';
  const manifest = await getSnapshotManifest(
    hash.startsWith('sha256:') || hash.startsWith('snapshot:') ? hash : `sha256:${hash}`,
  );
  return json(200, { hash: hash.replace(/^snapshot:/, ''), ...manifest });
});
