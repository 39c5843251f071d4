/**
 * Behaviour: a blob trigger (`app.storageBlob`, path `conf-uploads/{name}.txt`) polls its container
 * like the storage extension's scan: each blob version (ETag) runs the function once, with `{name}`
 * in its trigger metadata and output path and a blob input beside it; blob receipts in
 * azure-webjobs-hosts keep a version that ran from running again after a restart; a version that
 * keeps failing goes to webjobs-blobtrigger-poison after maxDequeueCount attempts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { ManualClock, setClock } from '../../../lib/host/clock';
import type { RunningHost } from '../../../lib/host/index';
import { startTestStorage, type TestStorage } from '../support/storage';
import { captureLog, eventually } from '../support/host';
import { appEvents, startConformanceHost, type AppEvent } from './support';

let storage: TestStorage;
let host: RunningHost | undefined;
let blobs: BlobServiceClient;

before(async () => {
  setClock(new ManualClock(Date.parse('2026-04-01T08:00:00Z')));
  storage = await startTestStorage();
  blobs = BlobServiceClient.fromConnectionString(storage.connectionString);
  host = await startConformanceHost(storage, captureLog());
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

async function upload(container: string, name: string, text: string): Promise<string> {
  const c = blobs.getContainerClient(container);
  await c.createIfNotExists();
  const r = await c.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
  return r.etag!;
}

/** Waits for `probe`, moving the host's clock past a scan interval (10 s) between looks. */
function afterScans<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  return eventually(async () => {
    const v = await probe();
    if (v !== undefined) return v;
    await fetch(`${host!.baseUrl}/admin/host/clock/advance?ms=10000&wait=true`, { method: 'POST' });
    return undefined;
  }, what);
}

const uploads = (name: string): Promise<AppEvent[]> =>
  appEvents(host!, 'onUpload').then((all) => all.filter((e) => e.name === name));

test('a new blob runs the function once, with {name}, its input blob and its output blob', async () => {
  await upload('conf-config', 'settings.json', JSON.stringify({ prefix: '> ' }));
  await upload('conf-uploads', 'notes.bin', 'not a .txt: the path does not match');
  const etag = await upload('conf-uploads', 'hello.txt', 'hi there');
  const [run] = await afterScans(
    async () => ((await uploads('hello')).length ? uploads('hello') : undefined),
    'hello.txt',
  );
  assert.deepEqual(run, {
    kind: 'onUpload',
    name: 'hello',
    blobTrigger: 'conf-uploads/hello.txt',
    isBuffer: true,
    text: 'hi there',
  });
  const out = await blobs
    .getContainerClient('conf-processed')
    .getBlobClient('hello.upper')
    .downloadToBuffer();
  assert.equal(out.toString(), '> HI THERE');
  // The receipt, where the storage extension keeps it.
  const receipt = blobs
    .getContainerClient('azure-webjobs-hosts')
    .getBlobClient(
      `blobreceipts/sluice-fixture-conformance/Host.Functions.onUpload/${etag.replace(/"/g, '')}/conf-uploads/hello.txt`,
    );
  const meta = (await receipt.getProperties()).metadata ?? {};
  assert.equal(Object.entries(meta).find(([k]) => k.toLowerCase() === 'completed')?.[1], 'true');
  assert.equal((await appEvents(host!, 'onUpload')).filter((e) => e.name === 'notes').length, 0);
});

test('a new version of the blob runs again; an unchanged one does not, even after a restart', async () => {
  await upload('conf-uploads', 'hello.txt', 'second version');
  await afterScans(
    async () => ((await uploads('hello')).length === 2 ? true : undefined),
    'the second version',
  );

  await host!.stop();
  host = await startConformanceHost(storage, captureLog());
  // A blob uploaded after the restart runs; by then the restarted host has scanned hello.txt too.
  await upload('conf-uploads', 'later.txt', 'after the restart');
  await afterScans(async () => ((await uploads('later')).length ? true : undefined), 'later.txt');
  await fetch(`${host.baseUrl}/admin/host/clock/advance?ms=10000&wait=true`, { method: 'POST' });
  const hello = await uploads('hello');
  assert.deepEqual(
    hello.map((e) => e.text),
    ['hi there', 'second version'],
    'each version of hello.txt ran once',
  );
});

test('a blob whose function keeps failing goes to webjobs-blobtrigger-poison after maxDequeueCount attempts', async () => {
  const etag = await upload('conf-poison', 'bad.bin', 'unreadable');
  const [poisoned] = await afterScans(async () => {
    const p = await appEvents(host!, 'blobPoison');
    return p.length ? p : undefined;
  }, 'the poison message');
  assert.deepEqual(poisoned!.message, {
    Type: 'BlobTrigger',
    FunctionId: 'Host.Functions.alwaysFails',
    BlobType: 'BlockBlob',
    ContainerName: 'conf-poison',
    BlobName: 'bad.bin',
    ETag: etag,
  });
  // host.json extensions.queues.maxDequeueCount is 2: two attempts, then no more.
  await fetch(`${host!.baseUrl}/admin/host/clock/advance?ms=10000&wait=true`, { method: 'POST' });
  await fetch(`${host!.baseUrl}/admin/host/clock/advance?ms=10000&wait=true`, { method: 'POST' });
  assert.equal((await appEvents(host!, 'alwaysFails')).length, 2);
});
