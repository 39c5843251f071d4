/**
 * Behaviour: the orchestrator episode limit is SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS (default 30 s), host.json
 * functionTimeout when that is shorter, 0 for episodes on the main thread; a bad value fails naming the
 * setting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { episodeLimit } from '../../lib/durable/index';

test('the episode limit: default, setting, shorter functionTimeout, off, bad value', () => {
  assert.deepEqual(episodeLimit({}, undefined, {}), {
    ms: 30_000,
    source: 'SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS',
  });
  assert.deepEqual(episodeLimit({}, undefined, { SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS: '2.5' }), {
    ms: 2500,
    source: 'SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS',
  });
  assert.deepEqual(episodeLimit({ functionTimeout: '00:00:10' }, undefined, {}), {
    ms: 10_000,
    source: 'host.json functionTimeout',
  });
  assert.equal(episodeLimit({ functionTimeout: '00:10:00' }, undefined, {}).ms, 30_000);
  assert.equal(episodeLimit({}, undefined, { SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS: '0' }).ms, 0);
  assert.equal(episodeLimit({}, 4, {}).ms, 4000);
  assert.throws(
    () => episodeLimit({}, undefined, { SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS: 'soon' }),
    /SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS must be a number of seconds/,
  );
});
