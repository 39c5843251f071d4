/**
 * Behaviour: two host processes of one app on one storage account share its blob triggers as
 * Azure's instances do: every blob version runs once in all, whichever host runs it (the receipt's
 * lease and its `Completed` mark decide), and both keep scanning.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerClient } from '@azure/storage-blob';
import { startHostProcess, type SluiceProcess } from '../../support/sluice';
import { startTestStorage, type TestStorage } from '../support/storage';
import { eventually } from '../support/host';
import { CONFORMANCE_APP, type AppEvent } from './support';

let storage: TestStorage;
const hosts: SluiceProcess[] = [];

before(async () => {
  storage = await startTestStorage();
});
after(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
  await storage?.stop();
});

const BLOBS = 12;

test('each blob version runs once across two hosts', async () => {
  const env = { AzureWebJobsStorage: storage.connectionString };
  hosts.push(
    ...(await Promise.all([
      startHostProcess(CONFORMANCE_APP, {
        stack: false,
        env,
        manualClock: true,
        readyPath: '/admin/host/status',
      }),
      startHostProcess(CONFORMANCE_APP, {
        stack: false,
        env,
        manualClock: true,
        readyPath: '/admin/host/status',
      }),
    ])),
  );
  const uploads = new ContainerClient(storage.connectionString, 'conf-uploads');
  await uploads.createIfNotExists();
  for (let i = 0; i < BLOBS; i++) await uploads.getBlockBlobClient(`b${i}.txt`).upload(`blob ${i}`, 6);

  const runs = await eventually(
    async () => {
      // Both hosts scan (a clock jump past the scan interval), then report what they ran.
      await Promise.all(
        hosts.map((h) => h.api('/admin/host/clock/advance?ms=10000&wait=true', { method: 'POST' })),
      );
      const seen = (
        await Promise.all(hosts.map((h) => h.json<AppEvent[]>('/api/events?kind=onUpload')))
      ).flat();
      return new Set(seen.map((e) => e.name)).size === BLOBS ? seen : undefined;
    },
    'every blob to run',
    30_000,
  );
  // A few more scans on both hosts run nothing again.
  for (let i = 0; i < 2; i++)
    await Promise.all(
      hosts.map((h) => h.api('/admin/host/clock/advance?ms=10000&wait=true', { method: 'POST' })),
    );
  const all = (await Promise.all(hosts.map((h) => h.json<AppEvent[]>('/api/events?kind=onUpload')))).flat();
  assert.equal(runs.length, BLOBS);
  assert.deepEqual(
    all.map((e) => e.name).sort(),
    Array.from({ length: BLOBS }, (_, i) => `b${i}`).sort(),
    'each blob ran exactly once in all',
  );
});
