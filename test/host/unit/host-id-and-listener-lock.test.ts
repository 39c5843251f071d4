/**
 * Behaviour: the host ID (which names an app's timer leases and status) comes from
 * AzureFunctionsWebHost__hostid when set, else from the app's name, always a valid ID; host.json
 * `singleton` sets the listener lease period and retry interval within the limits blob leases allow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostIdError, hostIdFromName, isValidHostId, resolveHostId } from '../../../lib/host/host-id';
import {
  ListenerLockError,
  listenerLockBlobName,
  listenerLockSettings,
} from '../../../lib/host/listener-lock';

test('the host ID derived from the app name is a valid ID of at most 32 characters', () => {
  assert.equal(hostIdFromName('sluice'), 'sluice');
  assert.equal(hostIdFromName('@acme/Batch_Scoring.App'), 'acme-batch-scoring-app');
  const long = hostIdFromName('my-function-app-with-a-really-long-name-eastus');
  assert.equal(long, 'my-function-app-with-a-really-lo');
  assert.equal(
    hostIdFromName('abcdefghij-abcdefghij-abcdefghi-tail'),
    'abcdefghij-abcdefghij-abcdefghi',
    'no dash at the end',
  );
  assert.equal(hostIdFromName('***'), 'app');
  for (const n of ['sluice', '@acme/Batch_Scoring.App', 'x'.repeat(80), '--a--b--', 'Ünïcode app'])
    assert.ok(isValidHostId(hostIdFromName(n)), n);
});

test('AzureFunctionsWebHost__hostid wins over the app name, in either spelling and any case', () => {
  assert.equal(resolveHostId('sluice', {}), 'sluice');
  assert.equal(resolveHostId('sluice', { AzureFunctionsWebHost__hostid: 'shared-id' }), 'shared-id');
  assert.equal(resolveHostId('sluice', { 'AzureFunctionsWebHost:hostId': 'other' }), 'other');
  assert.equal(resolveHostId('sluice', { azurefunctionswebhost__HOSTID: 'x1' }), 'x1');
  assert.equal(resolveHostId('sluice', { AzureFunctionsWebHost__hostid: '' }), 'sluice', 'empty: not set');
});

test('an invalid explicit host ID is refused with the rule and a valid suggestion', () => {
  for (const bad of ['Has_Upper', '-lead', 'trail-', 'two--dashes', 'x'.repeat(33)]) {
    assert.throws(
      () => resolveHostId('sluice', { AzureFunctionsWebHost__hostid: bad }),
      (e: Error) =>
        e instanceof HostIdError &&
        e.message.includes('AzureFunctionsWebHost__hostid') &&
        /1 to 32 characters/.test(e.message),
      bad,
    );
  }
  assert.throws(
    () => resolveHostId('sluice', { AzureFunctionsWebHost__hostid: 'My_App' }),
    /for example "my-app"/,
  );
});

test('listener lock blobs are named as the Functions runtime names them', () => {
  assert.equal(
    listenerLockBlobName('sluice', 'schedules-evaluator'),
    'locks/sluice/Host.Functions.schedules-evaluator.Listener',
  );
});

test('host.json singleton: lease period 15–60 s, recovery polling at least 1 s, local defaults 15 s and 5 s', () => {
  assert.deepEqual(listenerLockSettings({}), { periodMs: 15_000, recoveryPollingMs: 5_000 });
  assert.deepEqual(
    listenerLockSettings({
      singleton: { listenerLockPeriod: '00:01:00', listenerLockRecoveryPollingInterval: '00:01:00' },
    }),
    { periodMs: 60_000, recoveryPollingMs: 60_000 },
  );
  assert.throws(
    () => listenerLockSettings({ singleton: { listenerLockPeriod: '00:00:05' } }),
    (e: Error) => e instanceof ListenerLockError && /"00:00:15" to "00:01:00"/.test(e.message),
  );
  assert.throws(
    () => listenerLockSettings({ singleton: { listenerLockPeriod: '00:02:00' } }),
    ListenerLockError,
  );
  assert.throws(
    () => listenerLockSettings({ singleton: { listenerLockRecoveryPollingInterval: '00:00:00.5' } }),
    ListenerLockError,
  );
  assert.throws(() => listenerLockSettings({ singleton: { listenerLockPeriod: 'soon' } }), /TimeSpan/);
});
