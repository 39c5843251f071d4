import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { listJobs } from '../../lib/compute/jobs';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, sluiceCli, startRun, step, stepCommand, tempJournal, waitFor, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
  // Job rows are read from the stack's table storage directly.
  Object.assign(process.env, sluice.env);
});
after(() => sluice?.stop());

async function logBlobs(runId: string): Promise<string[]> {
  const logs = BlobServiceClient.fromConnectionString(sluice.env.AzureWebJobsStorage!).getContainerClient(
    'logs',
  );
  const names: string[] = [];
  for await (const b of logs.listBlobsFlat({ prefix: `${runId}/` })) names.push(b.name);
  return names;
}

test('deleting a finished run removes its document, logs, jobs, history, cache entry and lineage, not its data', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'deletable',
    steps: { make: { command: stepCommand('make', journal), outputs: { o: { type: 'file' } } } },
  });
  const first = await waitForRun(sluice, await startRun(sluice, 'deletable'));
  assert.equal(first.status, 'Completed');
  const output = step(first, 'make').outputs!.o!.hash;
  assert.ok((await logBlobs(first.runId)).length > 0, 'the run has a log');
  assert.ok((await listJobs(first.runId)).length > 0, 'the run has job rows');

  const res = await sluice.api(`/api/runs/${first.runId}`, { method: 'DELETE' });
  assert.equal(res.status, 200);
  const report = (await res.json()) as { deleted: Record<string, number> };
  assert.equal(report.deleted.cacheEntries, 1);
  assert.ok(report.deleted.jobs >= 1 && report.deleted.logs >= 1 && report.deleted.lineage >= 1);

  assert.equal((await sluice.api(`/api/runs/${first.runId}`)).status, 404);
  assert.deepEqual(await logBlobs(first.runId), []);
  assert.deepEqual(await listJobs(first.runId), []);
  const history = await sluice.api(`/runtime/webhooks/durabletask/instances/${first.runId}`);
  assert.equal(history.status, 404, 'the orchestration history is purged');
  const lineage = (await sluice.json(`/api/artifacts/${output}/lineage`)) as {
    producedBy: Array<{ runId: string }>;
  };
  assert.ok(!lineage.producedBy.some((p) => p.runId === first.runId), 'no lineage names the deleted run');
  assert.equal((await sluice.api(`/api/artifacts/${output}`)).status, 200, 'the data itself stays');
  assert.equal((await sluice.api(`/api/runs/${first.runId}`, { method: 'DELETE' })).status, 404);

  // Its cache entry went with it: the next run computes the step again.
  const second = await waitForRun(sluice, await startRun(sluice, 'deletable'));
  assert.equal(step(second, 'make').status, 'Completed');
  assert.equal(step(second, 'make').cache?.decision, 'run');

  // A run still going is refused with the way out; once canceled it can go, here through the CLI.
  await publish(sluice, {
    name: 'deletable-slow',
    steps: { wait: { command: stepCommand('wait', journal, { out: false, sleep: 60_000 }) } },
  });
  const slow = await startRun(sluice, 'deletable-slow');
  const refused = await sluice.api(`/api/runs/${slow}`, { method: 'DELETE' });
  assert.equal(refused.status, 409);
  assert.equal(refused.headers.get('content-type'), 'application/problem+json');
  assert.match(((await refused.json()) as { detail: string }).detail, /cancel it first/);
  await sluice.api(`/api/runs/${slow}/cancel`, { method: 'POST' });
  await waitFor('the run to end', async () => (await waitForRun(sluice, slow)).status === 'Canceled');
  const cli = await sluiceCli(sluice)('runs', 'delete', slow, second.runId);
  assert.match(cli.stdout, new RegExp(`deleted run ${slow}: \\d+ jobs`));
  assert.match(cli.stdout, new RegExp(`deleted run ${second.runId}: `));
  assert.equal((await sluice.api(`/api/runs/${second.runId}`)).status, 404);
});
