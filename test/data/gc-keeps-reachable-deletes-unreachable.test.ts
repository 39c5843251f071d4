import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestStack, type TestStack } from '../support/stack';
import { getClients } from '../../lib/azure/clients';
import { ARTIFACTS_CONTAINER, blobName, exists, putDirectory, putFile } from '../../lib/data/cas';
import { createVersion } from '../../lib/data/datasets';
import { collectGarbage } from '../../lib/data/gc';
import { gcSummary } from '../../lib/data/gc-report';
import { getLineage, recordConsumed, recordProduced } from '../../lib/data/lineage';
import { writeEntry } from '../../lib/runs/cache-store';
import type { CacheComponents } from '../../lib/runs/cache-key';
import { createRun, type RunDoc } from '../../lib/runs/store';

let stack: TestStack;
let dir: string;

before(async () => {
  stack = await startTestStack();
  dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-gc-'));
});

after(async () => {
  await stack?.stop();
});

const GRACE = 24 * 3600_000;

function file(rel: string, bytes: Buffer | string = randomBytes(2048)): string {
  const p = path.join(dir, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

async function lastModified(hash: string): Promise<number> {
  const p = await getClients()
    .blob.getContainerClient(ARTIFACTS_CONTAINER)
    .getBlockBlobClient(blobName(hash))
    .getProperties();
  return p.lastModified!.getTime();
}

const components = {
  kind: 'command',
  template: 'x',
  command: 'x',
  parameters: {},
  env: {},
  code: null,
  inputs: {},
  outputs: {},
  environment: {},
  cacheVersion: '1',
} satisfies CacheComponents;

function runDoc(runId: string, refs: Pick<RunDoc, 'resolvedInputs' | 'steps'>): RunDoc {
  return {
    id: runId,
    runId,
    type: 'run',
    pipeline: 'gc-test',
    version: 1,
    definitionHash: 'sha256:' + '0'.repeat(64),
    status: 'Completed',
    parameters: {},
    inputs: {},
    tags: {},
    trigger: { type: 'rest' },
    forceRerun: false,
    continueOnStepFailure: false,
    maxConcurrency: 4,
    createdAt: new Date().toISOString(),
    ...refs,
  };
}

test('the GC keeps everything a dataset, cache entry or run reaches and deletes old unreferenced content with its lineage', async () => {
  // Referenced: a file as a dataset version, a directory as a cache entry's output, a file as a run's
  // resolved input and a directory as a run's step output.
  const dataset = await putFile(file('dataset.csv'));
  await createVersion(
    'gc-kept',
    { hash: dataset.hash, type: 'file', size: dataset.size, files: 1 },
    { kind: 'upload', contentType: 'text/csv' },
  );
  file('cached/a.bin');
  file('cached/b.bin');
  const cachedDir = await putDirectory(path.join(dir, 'cached'));
  await writeEntry({
    key: 'gc-key-1',
    runId: 'gc-run-1',
    step: 'train',
    pipeline: 'gc-test',
    outputs: { model: { type: 'directory', hash: cachedDir.hash, size: cachedDir.size } },
    components,
    createdAt: new Date().toISOString(),
  });
  const input = await putFile(file('input.txt'));
  const shared = randomBytes(4096);
  file('out/shared.bin', shared);
  file('out/own.bin');
  const outDir = await putDirectory(path.join(dir, 'out'));
  await createRun(
    runDoc('gc-run-1', {
      resolvedInputs: { raw: { hash: input.hash, type: 'file', ref: input.hash } },
      steps: {
        train: {
          name: 'train',
          status: 'Completed',
          attempts: 1,
          outputs: { report: { type: 'directory', hash: outDir.hash } },
        },
      },
    }),
  );
  await recordProduced(dataset.hash, { runId: 'gc-run-0', step: 'make', output: 'data' });

  // Unreferenced and old: a file, and a directory with a file of its own and one shared with `out`.
  const oldFile = await putFile(file('old.bin'));
  file('garbage/own.bin');
  file('garbage/shared.bin', shared);
  const oldDir = await putDirectory(path.join(dir, 'garbage'));
  const garbageOwn = oldDir.manifest.find((e) => e.path === 'own.bin')!.hash;
  await recordProduced(oldFile.hash, { runId: 'gc-run-2', step: 'make', output: 'o' });
  await recordConsumed(oldDir.hash, { runId: 'gc-run-2', step: 'use', input: 'i' });
  const oldest = Math.max(
    ...(await Promise.all([oldFile.hash, oldDir.hash, garbageOwn].map(lastModified))),
    ...(await Promise.all([cachedDir.hash, input.hash, outDir.hash].map(lastModified))),
  );

  // Unreferenced and young: stored after the others' last-modified second.
  await sleep(Math.max(0, oldest + 2100 - Date.now()));
  const young = await putFile(file('young.bin'));
  assert.ok((await lastModified(young.hash)) >= oldest + 2000);

  // "Now" is a day after the old content was stored: it is past the grace period, the young file is not.
  const now = oldest + 1000 + GRACE;
  const reachable = [
    dataset.hash,
    cachedDir.hash,
    ...cachedDir.manifest.map((e) => e.hash),
    input.hash,
    outDir.hash,
    ...outDir.manifest.map((e) => e.hash),
  ];
  const garbage = [oldFile.hash, oldDir.hash, garbageOwn].sort();

  const dry = await collectGarbage({ dryRun: true, now, graceMs: GRACE });
  assert.equal(dry.dryRun, true);
  assert.deepEqual(dry.roots, { datasetVersions: 1, cacheEntries: 1, runs: 1 });
  assert.equal(dry.marked, new Set(reachable).size);
  assert.deepEqual(dry.collected.map((b) => b.hash).sort(), garbage);
  assert.equal(dry.deleted, garbage.length);
  assert.equal(dry.keptYoung, 1);
  assert.equal(dry.lineageDeleted, 0);
  for (const h of [...reachable, ...garbage, young.hash]) assert.equal(await exists(h), true, h);
  assert.equal((await getLineage(oldFile.hash)).producedBy.length, 1);

  // An invalid grace setting fails the GC before anything is deleted, naming the setting.
  process.env.SLUICE_GC_GRACE = '30m';
  try {
    await assert.rejects(collectGarbage({ now }), /SLUICE_GC_GRACE is "30m", under the minimum of 1h/);
  } finally {
    delete process.env.SLUICE_GC_GRACE;
  }
  for (const h of garbage) assert.equal(await exists(h), true, h);

  const real = await collectGarbage({ now, graceMs: GRACE });
  console.log(gcSummary(real), `in ${Date.parse(real.finishedAt) - Date.parse(real.startedAt)} ms`);
  assert.equal(real.dryRun, false);
  assert.deepEqual(real.collected.map((b) => b.hash).sort(), garbage);
  assert.equal(real.deleted, garbage.length);
  assert.equal(real.skipped, 0);
  assert.equal(real.keptYoung, 1);
  assert.equal(real.bytesFreed, dry.bytesFreed);
  assert.ok(real.bytesFreed > 2048 * 2);
  for (const h of garbage) assert.equal(await exists(h), false, `${h} deleted`);
  for (const h of [...reachable, young.hash]) assert.equal(await exists(h), true, `${h} kept`);
  // The file the garbage directory shared with a referenced one stays.
  assert.equal(await exists(outDir.manifest.find((e) => e.path === 'shared.bin')!.hash), true);

  // Lineage goes with the data, and only with it.
  assert.equal(real.lineageDeleted, 2);
  assert.deepEqual(await getLineage(oldFile.hash), { hash: oldFile.hash, producedBy: [], consumedBy: [] });
  assert.deepEqual(await getLineage(oldDir.hash), { hash: oldDir.hash, producedBy: [], consumedBy: [] });
  assert.equal((await getLineage(dataset.hash)).producedBy.length, 1);

  const again = await collectGarbage({ now, graceMs: GRACE });
  assert.equal(again.deleted, 0);
  assert.equal(again.scanned, real.scanned - garbage.length);
});
