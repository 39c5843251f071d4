/**
 * Behaviour: `sluice host --app DIR` with nothing but the app's usual local.settings.json
 * ("UseDevelopmentStorage=true") starts the embedded stack itself and points every such connection
 * setting at it — as a new user would run it — and prints where the emulators listen.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import { startHostProcess, type SluiceProcess } from '../support/sluice';
import { OTHER_APP } from './support/storage';
import { eventually } from './support/host';

let host: SluiceProcess | undefined;
after(async () => {
  await host?.stop();
});

test('the host starts its own stack and serves the app against it', async () => {
  host = await startHostProcess(OTHER_APP, { readyPath: '/v1/ping' });
  assert.match(host.output(), /Starting the embedded Azure stack/);
  // The emulators' ports are printed at start, as a Core Tools user finds Azurite's.
  assert.match(
    host.output(),
    /Azure Storage emulator \(Azurite\): blob 127\.0\.0\.1:\d+, queue 127\.0\.0\.1:\d+, table 127\.0\.0\.1:\d+; Cosmos DB emulator: http:\/\/127\.0\.0\.1:\d+/,
  );
  const conn = host.env.AzureWebJobsStorage;
  assert.ok(conn && /127\.0\.0\.1/.test(conn), 'the stack wrote its settings');

  // OTHER_STORAGE was "UseDevelopmentStorage=true": the queue function listens on the stack's Azurite.
  await new QueueClient(conn, 'other-jobs').sendMessage('from-the-test');
  const jobs = await eventually(async () => {
    const s = (await host!.json('/v1/state')) as { jobs: Array<{ message: string }> };
    return s.jobs.length ? s.jobs : undefined;
  }, 'the queue message to be handled');
  assert.equal(jobs[0]!.message, 'from-the-test');

  await host.stop();
  assert.match(host.output(), /Host stopped\./);
  host = undefined;
});
