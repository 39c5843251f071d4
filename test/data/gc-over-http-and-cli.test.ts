import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, sluiceCli, startRun, step, stepCommand, tempJournal, waitForRun } from '../runs/helpers';
import type { GcReport } from '../../lib/data/gc-report';

let sluice: SluiceProcess;

before(async () => {
  // A manual clock moves the host past the grace period (1 h here) and across the daily timer.
  sluice = await startSluice({ manualClock: true, env: { SLUICE_GC_GRACE: '1h' } });
});

after(async () => {
  await sluice?.stop();
});

/** The next 03:17 UTC (the GC timer's time) at least a minute after `from`. */
function nextGcTick(from: number): number {
  const d = new Date(from + 60_000);
  const t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 3, 17);
  return t > from + 60_000 ? t : t + 86_400_000;
}

async function clockTo(ms: number): Promise<void> {
  await sluice.json(`/admin/host/clock/advance?to=${new Date(ms).toISOString()}`, { method: 'POST' });
}

test('GC over HTTP and the CLI lists and deletes only unreferenced content, and the cache still reuses', async () => {
  // Move the clock just past today's GC tick first, so the next one is a day away; the timer's
  // collection of the still-empty store is logged.
  const clock = await sluice.json<{ now: string }>('/admin/host/clock');
  const tick = nextGcTick(Date.parse(clock.now));
  await clockTo(tick + 5 * 60_000);
  await sluice.waitForOutput(/artifact GC: deleted 0 of 0 blob\(s\)/, 30_000);

  // A dataset, and a pipeline whose steps read it and write a file and a directory.
  const data = await sluice.json<{ hash: string }>('/api/datasets/gc-raw', {
    method: 'POST',
    headers: { 'content-type': 'text/csv' },
    body: 'id,value\n1,2\n',
  });
  const journal = tempJournal();
  await publish(sluice, {
    name: 'gc-keep',
    inputs: { raw: { type: 'dataset' } },
    steps: {
      a: {
        command: stepCommand('a', journal, { ins: ['x'] }),
        inputs: { x: '${{pipeline.inputs.raw}}' },
        outputs: { o: { type: 'file' } },
      },
      b: {
        command: 'cp ${{inputs.x}} ${{outputs.d}}/copy.txt && echo b > ${{outputs.d}}/b.txt',
        inputs: { x: '${{steps.a.outputs.o}}' },
        outputs: { d: { type: 'directory' } },
      },
    },
  });
  const first = await waitForRun(
    sluice,
    await startRun(sluice, 'gc-keep', { inputs: { raw: 'gc-raw@latest' } }),
  );
  assert.equal(first.status, 'Completed', JSON.stringify(first));
  const dir = step(first, 'b').outputs!.d!.hash;
  const manifest = await sluice.json<Array<{ hash: string }>>(`/api/artifacts/${dir}`);
  const reachable = new Set([
    data.hash,
    step(first, 'a').outputs!.o!.hash,
    dir,
    ...manifest.map((e) => e.hash),
  ]);

  // Content nothing references, as a killed registration would leave it.
  const bytes = randomBytes(3000);
  const orphan = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
  const artifacts = BlobServiceClient.fromConnectionString(
    sluice.env.AzureWebJobsStorage!,
  ).getContainerClient('artifacts');
  await artifacts.getBlockBlobClient(`sha256/${orphan.slice(7)}`).uploadData(bytes);
  const stored = async (hash: string): Promise<boolean> =>
    artifacts.getBlockBlobClient(`sha256/${hash.slice(7)}`).exists();

  // Two hours later (the next tick is still ~22 h away) everything is past the 1 h grace period.
  await sluice.advanceClock(2 * 3600_000);

  const dry = await sluice.json<GcReport>('/api/gc?dryRun=true', { method: 'POST' });
  assert.equal(dry.dryRun, true);
  assert.deepEqual(
    dry.collected.map((b) => b.hash),
    [orphan],
  );
  assert.equal(dry.marked, reachable.size);
  assert.deepEqual(dry.roots, { datasetVersions: 1, cacheEntries: 2, runs: 1 });
  assert.equal(await stored(orphan), true, 'a dry run deletes nothing');

  const cli = sluiceCli(sluice);
  const human = await cli('gc', '--dry-run');
  assert.match(human.stdout, /dry run: would delete 1 of \d+ stored blob\(s\)/);
  assert.match(human.stdout, new RegExp(`would delete ${orphan}`));
  for (const h of reachable) assert.doesNotMatch(human.stdout, new RegExp(h.slice(7)));
  const asJson = JSON.parse((await cli('gc', '--dry-run', '--json')).stdout) as GcReport;
  assert.deepEqual(
    asJson.collected.map((b) => b.hash),
    [orphan],
  );

  // A bad dryRun value is a 400 naming the parameter, and deletes nothing.
  const bad = await sluice.api('/api/gc?dryRun=maybe', { method: 'POST' });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('content-type'), 'application/problem+json');
  const problem = (await bad.json()) as { errors: Array<{ pointer: string }> };
  assert.deepEqual(
    problem.errors.map((e) => e.pointer),
    ['/dryRun'],
  );

  const real = await sluice.json<GcReport>('/api/gc', { method: 'POST' });
  assert.equal(real.deleted, 1);
  assert.equal(await stored(orphan), false);
  for (const h of reachable) assert.equal(await stored(h), true, `${h} kept`);

  // The daily timer collects again; nothing is left to delete.
  await sluice.advanceClock(24 * 3600_000);
  await sluice.waitForOutput(/artifact GC: deleted 0 of [1-9]\d* blob\(s\)/, 30_000);

  // The cache's outputs survived: running again reuses both steps.
  const second = await waitForRun(
    sluice,
    await startRun(sluice, 'gc-keep', { inputs: { raw: 'gc-raw@latest' } }),
  );
  assert.deepEqual(
    second.steps.map((s) => s.status),
    ['Reused', 'Reused'],
  );
});
