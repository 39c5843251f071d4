import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileRule,
  latestOccurrences,
  nextOccurrences,
  occurrencesBetween,
} from '../../../lib/schedules/rules';

const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
const at = (s: string) => Date.parse(s);

test('six-field cron fires every 10 seconds and five-field cron at minute boundaries', () => {
  const ten = compileRule({ cron: '*/10 * * * * *', timeZone: 'UTC' });
  assert.deepEqual(iso(nextOccurrences(ten, at('2026-01-01T00:00:03.500Z'), 3)), [
    '2026-01-01T00:00:10.000Z',
    '2026-01-01T00:00:20.000Z',
    '2026-01-01T00:00:30.000Z',
  ]);
  // "strictly after": an instant exactly on an occurrence does not return it again.
  assert.equal(new Date(ten.next(at('2026-01-01T00:00:10Z'))!).toISOString(), '2026-01-01T00:00:20.000Z');
  assert.equal(new Date(ten.prev(at('2026-01-01T00:00:10Z'))!).toISOString(), '2026-01-01T00:00:00.000Z');

  const nightly = compileRule({ cron: '0 2 * * *', timeZone: 'Europe/Amsterdam' });
  assert.deepEqual(iso(nextOccurrences(nightly, at('2026-01-01T12:00:00Z'), 2)), [
    '2026-01-02T01:00:00.000Z',
    '2026-01-03T01:00:00.000Z',
  ]);

  assert.deepEqual(
    iso(occurrencesBetween(ten, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:30Z'), 100)),
    ['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:20.000Z', '2026-01-01T00:00:30.000Z'],
  );
  assert.deepEqual(iso(latestOccurrences(ten, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:00Z'), 2)), [
    '2026-01-01T00:00:50.000Z',
    '2026-01-01T00:01:00.000Z',
  ]);
});
