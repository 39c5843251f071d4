import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule, nextOccurrences } from '../../../lib/schedules/rules';

const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
const at = (s: string) => Date.parse(s);

describe('DST edges in America/New_York follow one rule for cron and recurrence', () => {
  test('a cron time inside the spring-forward gap fires once, shifted forward by the gap', () => {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
    const rule = compileRule({ cron: '30 2 * * *', timeZone: 'America/New_York' });
    assert.deepEqual(iso(nextOccurrences(rule, at('2026-03-07T12:00:00Z'), 3)), [
      '2026-03-08T07:30:00.000Z', // 03:30 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  test('a cron time repeated by the fall-back fires once, at its first (daylight) instance', () => {
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
    const rule = compileRule({ cron: '30 1 * * *', timeZone: 'America/New_York' });
    assert.deepEqual(iso(nextOccurrences(rule, at('2026-10-31T12:00:00Z'), 2)), [
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-02T06:30:00.000Z', // 01:30 EST next day
    ]);
  });

  test('a cron with a wildcard hour keeps elapsed-time spacing through the fall-back', () => {
    const rule = compileRule({ cron: '*/30 * * * *', timeZone: 'America/New_York' });
    assert.deepEqual(iso(nextOccurrences(rule, at('2026-11-01T04:45:00Z'), 5)), [
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST
      '2026-11-01T06:30:00.000Z', // 01:30 EST
      '2026-11-01T07:00:00.000Z', // 02:00 EST
    ]);
  });

  test('a daily recurrence inside the gap fires once, shifted forward like cron', () => {
    const rule = compileRule({
      timeZone: 'America/New_York',
      recurrence: { frequency: 'day', interval: 1, startTime: '2026-03-01T02:30:00' },
    });
    assert.deepEqual(iso(nextOccurrences(rule, at('2026-03-07T12:00:00Z'), 3)), [
      '2026-03-08T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  test('a daily recurrence at a repeated time fires once, at the first instance', () => {
    const rule = compileRule({
      timeZone: 'America/New_York',
      recurrence: { frequency: 'day', interval: 1, startTime: '2026-10-01T01:30:00' },
    });
    assert.deepEqual(iso(nextOccurrences(rule, at('2026-10-31T12:00:00Z'), 2)), [
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  test('a daily 09:00 recurrence in Europe/Amsterdam stays at 09:00 local across the change', () => {
    // 2026-03-29: CET (UTC+1) → CEST (UTC+2).
    const rule = compileRule({
      timeZone: 'Europe/Amsterdam',
      recurrence: { frequency: 'day', interval: 1, startTime: '2026-03-01T09:00:00' },
    });
    assert.deepEqual(iso(nextOccurrences(rule, at('2026-03-27T12:00:00Z'), 3)), [
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
  });
});

describe('DST edges on Lord Howe Island (30-minute shifts) follow the same rule', () => {
  test('a cron time in the 30-minute gap fires once, shifted forward by the gap, and prev walks back through it', () => {
    // 2027-10-03: 02:00 (+10:30) jumps to 02:30 (+11), so 02:00 does not exist that day.
    const rule = compileRule({ cron: '0 2 * * *', timeZone: 'Australia/Lord_Howe' });
    const fires = nextOccurrences(rule, at('2027-09-30T15:30:00Z'), 3);
    assert.deepEqual(iso(fires), [
      '2027-10-01T15:30:00.000Z', // 2 Oct 02:00 +10:30
      '2027-10-02T15:30:00.000Z', // 3 Oct 02:30 +11: the gap time, shifted
      '2027-10-03T15:00:00.000Z', // 4 Oct 02:00 +11
    ]);
    assert.equal(rule.prev(fires[2]!), fires[1]);
    assert.equal(rule.prev(fires[1]!), fires[0]);
  });

  test('a cron time repeated by the 30-minute fall-back fires once, at its first instance', () => {
    // 2027-04-04: 02:00 (+11) falls back to 01:30 (+10:30), so 01:45 happens twice.
    const rule = compileRule({ cron: '45 1 * * *', timeZone: 'Australia/Lord_Howe' });
    assert.deepEqual(iso(nextOccurrences(rule, at('2027-04-02T12:00:00Z'), 3)), [
      '2027-04-02T14:45:00.000Z', // 3 Apr 01:45 +11
      '2027-04-03T14:45:00.000Z', // 4 Apr 01:45 +11, the first instance
      '2027-04-04T15:15:00.000Z', // 5 Apr 01:45 +10:30
    ]);
  });
});
