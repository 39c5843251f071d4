import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule, nextOccurrences } from '../../../lib/schedules/rules';

const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
const at = (s: string) => Date.parse(s);

test('recurrences follow frequency, interval, hours, minutes and weekDays from their start', () => {
  const every15 = compileRule({
    timeZone: 'UTC',
    recurrence: { frequency: 'minute', interval: 15, startTime: '2026-01-01T00:05:00' },
  });
  assert.deepEqual(iso(nextOccurrences(every15, at('2025-12-31T00:00:00Z'), 3)), [
    '2026-01-01T00:05:00.000Z',
    '2026-01-01T00:20:00.000Z',
    '2026-01-01T00:35:00.000Z',
  ]);

  const hourly = compileRule({
    timeZone: 'UTC',
    recurrence: { frequency: 'hour', interval: 2, startTime: '2026-01-01T00:00:00', minutes: [0, 30] },
  });
  assert.deepEqual(iso(nextOccurrences(hourly, at('2026-01-01T00:10:00Z'), 4)), [
    '2026-01-01T00:30:00.000Z',
    '2026-01-01T02:00:00.000Z',
    '2026-01-01T02:30:00.000Z',
    '2026-01-01T04:00:00.000Z',
  ]);

  // Every two weeks on Monday and Wednesday at 18:30 in Amsterdam, from Monday 2026-01-05.
  const biweekly = compileRule({
    timeZone: 'Europe/Amsterdam',
    recurrence: {
      frequency: 'week',
      interval: 2,
      startTime: '2026-01-05T00:00:00',
      weekDays: ['monday', 'wednesday'],
      hours: [18],
      minutes: [30],
    },
  });
  assert.deepEqual(iso(nextOccurrences(biweekly, at('2026-01-01T00:00:00Z'), 4)), [
    '2026-01-05T17:30:00.000Z',
    '2026-01-07T17:30:00.000Z',
    '2026-01-19T17:30:00.000Z',
    '2026-01-21T17:30:00.000Z',
  ]);

  // Day 31 monthly skips months without a 31st rather than clamping.
  const monthly = compileRule({
    timeZone: 'UTC',
    recurrence: { frequency: 'month', interval: 1, startTime: '2026-01-31T06:00:00' },
  });
  assert.deepEqual(iso(nextOccurrences(monthly, at('2026-01-01T00:00:00Z'), 3)), [
    '2026-01-31T06:00:00.000Z',
    '2026-03-31T06:00:00.000Z',
    '2026-05-31T06:00:00.000Z',
  ]);
  assert.equal(new Date(monthly.prev(at('2026-05-01T00:00:00Z'))!).toISOString(), '2026-03-31T06:00:00.000Z');

  // Days 10:00 and 14:00, every 3 days.
  const days = compileRule({
    timeZone: 'UTC',
    recurrence: { frequency: 'day', interval: 3, startTime: '2026-01-01T00:00:00', hours: [10, 14] },
  });
  assert.deepEqual(iso(nextOccurrences(days, at('2026-01-01T12:00:00Z'), 3)), [
    '2026-01-01T14:00:00.000Z',
    '2026-01-04T10:00:00.000Z',
    '2026-01-04T14:00:00.000Z',
  ]);
  assert.equal(new Date(days.prev(at('2026-01-04T10:00:00Z'))!).toISOString(), '2026-01-01T14:00:00.000Z');
});
