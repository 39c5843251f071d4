import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetentionSettingError, runRetentionMs } from '../../../lib/runs/retention';

test('run retention is off unless SLUICE_RUN_RETENTION_DAYS is a whole number of days; a typo deletes nothing', () => {
  assert.equal(runRetentionMs({}), undefined);
  assert.equal(runRetentionMs({ SLUICE_RUN_RETENTION_DAYS: '0' }), undefined);
  assert.equal(runRetentionMs({ SLUICE_RUN_RETENTION_DAYS: ' 90 ' }), 90 * 86_400_000);
  for (const bad of ['90d', '-1', '1.5', 'forever'])
    assert.throws(
      () => runRetentionMs({ SLUICE_RUN_RETENTION_DAYS: bad }),
      (e: unknown) => e instanceof RetentionSettingError && e.message.includes(`"${bad}"`),
      bad,
    );
});
