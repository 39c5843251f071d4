import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../../lib/data/errors';
import { tmpBlobTtlMs } from '../../lib/data/tmp-sweep';

test('SLUICE_TMP_BLOB_TTL defaults to 6h, takes durations, and refuses values that could break uploads', () => {
  assert.equal(tmpBlobTtlMs({}), 6 * 3600_000);
  assert.equal(tmpBlobTtlMs({ SLUICE_TMP_BLOB_TTL: '' }), 6 * 3600_000);
  assert.equal(tmpBlobTtlMs({ SLUICE_TMP_BLOB_TTL: '1h30m' }), 90 * 60_000);
  assert.equal(tmpBlobTtlMs({ SLUICE_TMP_BLOB_TTL: '48h' }), 48 * 3600_000);
  for (const [value, says] of [
    ['6 hours', /not a duration/],
    ['3600000', /not a duration/],
    ['30m', /under the minimum of 1h/],
  ] as const) {
    assert.throws(
      () => tmpBlobTtlMs({ SLUICE_TMP_BLOB_TTL: value }),
      (e: unknown) =>
        e instanceof DataError &&
        e.code === 'invalid-setting' &&
        says.test(e.message) &&
        e.message.includes('SLUICE_TMP_BLOB_TTL'),
    );
  }
});
