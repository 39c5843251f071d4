import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../../../lib/data/errors';
import { gcGraceMs } from '../../../lib/data/gc';

test('SLUICE_GC_GRACE defaults to 24h, takes durations, and refuses values that could delete fresh uploads', () => {
  assert.equal(gcGraceMs({}), 24 * 3600_000);
  assert.equal(gcGraceMs({ SLUICE_GC_GRACE: ' ' }), 24 * 3600_000);
  assert.equal(gcGraceMs({ SLUICE_GC_GRACE: '1h' }), 3600_000);
  assert.equal(gcGraceMs({ SLUICE_GC_GRACE: '168h' }), 7 * 24 * 3600_000);
  for (const [value, says] of [
    ['7d', /not a duration/],
    ['86400000', /not a duration/],
    ['59m', /under the minimum of 1h/],
  ] as const) {
    assert.throws(
      () => gcGraceMs({ SLUICE_GC_GRACE: value }),
      (e: unknown) =>
        e instanceof DataError &&
        e.code === 'invalid-setting' &&
        says.test(e.message) &&
        e.message.includes('SLUICE_GC_GRACE') &&
        e.message.includes('Nothing was deleted'),
    );
  }
});
