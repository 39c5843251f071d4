import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule } from '../../../lib/schedules/rules';
import { planDue } from '../../../lib/schedules/due';

const everyMinute = compileRule({ cron: '0 * * * * *', timeZone: 'UTC' });
const at = (s: string) => Date.parse(s);
const iso = (t: number) => new Date(t).toISOString();
const base = { rule: everyMinute, catchUpLimit: 100, graceMs: 30_000 };

describe('which occurrences run after ten minutes of downtime', () => {
  // Last evaluated at 10:00:30; now 10:10:10. Occurrences 10:01 … 10:10; 10:10 is on time (within 30 s).
  const window = { lastEvaluated: at('2026-01-01T10:00:30Z'), now: at('2026-01-01T10:10:10Z') };

  test('none: only the on-time occurrence runs; nine are reported missed', () => {
    const plan = planDue({ ...base, ...window, catchUp: 'none' });
    assert.deepEqual(
      plan.fire.map((f) => iso(f.occurrence)),
      ['2026-01-01T10:10:00.000Z'],
    );
    assert.equal(plan.missed?.count, 9);
    assert.equal(iso(plan.missed!.first), '2026-01-01T10:01:00.000Z');
    assert.equal(iso(plan.missed!.last), '2026-01-01T10:09:00.000Z');
    assert.equal(plan.evaluatedThrough, window.now);
  });

  test('latest: with an on-time occurrence, that one is the latest and nothing else runs', () => {
    const plan = planDue({ ...base, ...window, catchUp: 'latest' });
    assert.deepEqual(
      plan.fire.map((f) => iso(f.occurrence)),
      ['2026-01-01T10:10:00.000Z'],
    );
    assert.equal(plan.missed?.count, 9);
  });

  test('latest: without an on-time occurrence, the most recent missed one runs, late', () => {
    const plan = planDue({
      ...base,
      lastEvaluated: window.lastEvaluated,
      now: at('2026-01-01T10:10:45Z'),
      catchUp: 'latest',
    });
    assert.deepEqual(plan.fire, [{ occurrence: at('2026-01-01T10:10:00Z'), late: true }]);
    assert.equal(plan.missed?.count, 9);
  });

  test('all: every missed occurrence runs, oldest first, then the on-time one', () => {
    const plan = planDue({ ...base, ...window, catchUp: 'all' });
    assert.equal(plan.fire.length, 10);
    assert.equal(iso(plan.fire[0]!.occurrence), '2026-01-01T10:01:00.000Z');
    assert.ok(plan.fire.slice(0, 9).every((f) => f.late));
    assert.equal(plan.fire[9]!.late, false);
    assert.equal(plan.missed, undefined);
  });

  test('all: bounded by catchUpLimit, keeping the most recent', () => {
    const plan = planDue({ ...base, ...window, catchUp: 'all', catchUpLimit: 3 });
    assert.deepEqual(
      plan.fire.map((f) => iso(f.occurrence)),
      [
        '2026-01-01T10:07:00.000Z',
        '2026-01-01T10:08:00.000Z',
        '2026-01-01T10:09:00.000Z',
        '2026-01-01T10:10:00.000Z',
      ],
    );
    assert.equal(plan.missed?.count, 6);
    assert.equal(iso(plan.missed!.last), '2026-01-01T10:06:00.000Z');
  });

  test('a long outage on a per-second rule reports a bounded count without walking every second', () => {
    const perSecond = compileRule({ cron: '* * * * * *', timeZone: 'UTC' });
    const plan = planDue({
      rule: perSecond,
      lastEvaluated: at('2026-01-01T00:00:00Z'),
      now: at('2026-01-08T00:00:00Z'),
      catchUp: 'latest',
      catchUpLimit: 100,
      graceMs: 5_000,
    });
    assert.equal(plan.fire.length, 5);
    assert.equal(plan.missed?.countIsLowerBound, true);
    assert.equal(iso(plan.missed!.last), '2026-01-07T23:59:55.000Z');
  });
});

test('a schedule never fires for occurrences at or before its creation', () => {
  const created = at('2026-01-01T10:00:00Z'); // exactly on an occurrence
  const plan = planDue({ ...base, lastEvaluated: created, now: created, catchUp: 'all' });
  assert.deepEqual(plan.fire, []);
  const later = planDue({ ...base, lastEvaluated: created, now: at('2026-01-01T10:00:59Z'), catchUp: 'all' });
  assert.deepEqual(later.fire, []);
  assert.equal(later.missed, undefined);
});
