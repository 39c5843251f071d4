import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import type { SluiceProcess } from '../support/sluice';
import { packDirectory } from '../../lib/snapshots/pack';
import { extractSnapshot } from '../../lib/snapshots/store';
import { tarGz } from '../unit/pipelines/tarball';
import { FIXTURES, startPipelinesApi, useStackEnv } from './support';

let api: SluiceProcess;
let undoEnv: () => void = () => {};
const tmp = mkdtempSync(join(tmpdir(), 'sluice-snap-'));
before(async () => {
  api = await startPipelinesApi();
  undoEnv = useStackEnv(api.env);
});
after(async () => {
  undoEnv();
  rmSync(tmp, { recursive: true, force: true });
  await api?.stop();
});

const upload = (body: Uint8Array) =>
  api.api('/api/snapshots', { method: 'POST', headers: { 'content-type': 'application/gzip' }, body });

async function blobCount(): Promise<number> {
  const c = BlobServiceClient.fromConnectionString(api.env.AzureWebJobsStorage!).getContainerClient(
    'snapshots',
  );
  let n = 0;
  for await (const _ of c.listBlobsFlat()) n++;
  return n;
}

test('a code directory uploads content-addressed, stores nothing new twice, rejects escapes, and extracts verified', async () => {
  const packed = await packDirectory(join(FIXTURES, 'churn', 'src'));
  assert.deepEqual(packed.files, ['.sluiceignore', 'prep.js', 'train.js']);

  const first = await upload(new Uint8Array(packed.archive));
  assert.equal(first.status, 201);
  const body = (await first.json()) as {
    ref: string;
    hash: string;
    files: number;
    bytes: number;
    created: boolean;
  };
  assert.match(body.ref, /^snapshot:sha256:[0-9a-f]{64}$/);
  assert.equal(body.files, 3);
  const stored = await blobCount();
  assert.equal(stored, 4, 'three file blobs and one manifest');

  // The same tree packed differently (order, timestamps) is the same snapshot; nothing new is stored.
  const repacked = await tarGz(
    packed.files
      .slice()
      .reverse()
      .map((f) => ({
        name: `./${f}`,
        content: readFileSync(join(FIXTURES, 'churn', 'src', f), 'utf8'),
        mtime: new Date(),
      })),
  );
  const second = await upload(new Uint8Array(repacked));
  assert.equal(second.status, 200);
  const again = (await second.json()) as { ref: string; created: boolean };
  assert.deepEqual({ ref: again.ref, created: again.created }, { ref: body.ref, created: false });
  assert.equal(await blobCount(), stored);

  for (const [entries, pattern] of [
    [[{ name: '../escape.js', content: 'x' }], /escape the snapshot root/],
    [[{ name: '/abs.js', content: 'x' }], /absolute path/],
    [
      [{ name: 'out', type: 'symlink' as const, linkname: '../../../etc/passwd' }],
      /outside the snapshot root/,
    ],
    [[{ name: 'hl', type: 'link' as const, linkname: '/etc/passwd' }], /outside the snapshot root/],
  ] as const) {
    const res = await upload(new Uint8Array(await tarGz([...entries])));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const problem = (await res.json()) as { errors: Array<{ message: string }> };
    assert.match(problem.errors[0]!.message, pattern);
  }
  assert.equal(await blobCount(), stored, 'rejected uploads store nothing');

  const manifest = (await api.json(`/api/snapshots/${body.hash}`)) as { entries: Array<{ path: string }> };
  assert.deepEqual(
    manifest.entries.map((e) => e.path),
    ['.sluiceignore', 'prep.js', 'train.js'],
  );

  const withLink = await tarGz([
    { name: 'bin/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { name: 'run', type: 'symlink', linkname: 'bin/run.sh' },
  ]);
  const linkRef = ((await (await upload(new Uint8Array(withLink))).json()) as { ref: string }).ref;
  const dest = join(tmp, 'work');
  const out = await extractSnapshot(linkRef, dest);
  assert.deepEqual(out, { files: 2, bytes: 18 });
  assert.equal(readFileSync(join(dest, 'bin', 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(statSync(join(dest, 'bin', 'run.sh')).mode & 0o777, 0o755);
  assert.equal(readlinkSync(join(dest, 'run')), 'bin/run.sh');

  // A corrupted file blob is detected on extraction instead of running altered code.
  const entry = (await api.json(`/api/snapshots/${linkRef.replace('snapshot:', '')}`)) as {
    entries: Array<{ path: string; hash?: string }>;
  };
  const script = entry.entries.find((e) => e.path === 'bin/run.sh')!;
  const blobs = BlobServiceClient.fromConnectionString(api.env.AzureWebJobsStorage!).getContainerClient(
    'snapshots',
  );
  await blobs
    .getBlockBlobClient(`files/${script.hash!.replace('sha256:', '')}`)
    .uploadData(Buffer.from('rm -rf /\n'));
  await assert.rejects(extractSnapshot(linkRef, join(tmp, 'again')), /does not match its hash/);

  const missing = await api.api(`/api/snapshots/sha256:${'0'.repeat(64)}`);
  assert.equal(missing.status, 404);
});
