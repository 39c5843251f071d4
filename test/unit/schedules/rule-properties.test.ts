import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileRule, type TimeRule } from '../../../lib/schedules/rules';
import { planDue } from '../../../lib/schedules/due';

const zones = ['UTC', 'America/New_York', 'Europe/Amsterdam', 'Australia/Lord_Howe', 'Asia/Kolkata'];
const instant = fc.integer({
  min: Date.parse('2025-01-01T00:00:00Z'),
  max: Date.parse('2028-01-01T00:00:00Z'),
});

const ruleArb: fc.Arbitrary<TimeRule> = fc.oneof(
  fc.record({
    cron: fc.constantFrom(
      '*/10 * * * * *',
      '0 2 * * *',
      '30 1 * * *',
      '*/15 * * * *',
      '0 9 * * 1-5',
      '0 0 1 * *',
    ),
    timeZone: fc.constantFrom(...zones),
  }),
  fc.record({
    timeZone: fc.constantFrom(...zones),
    recurrence: fc.record({
      frequency: fc.constantFrom(
        'minute' as const,
        'hour' as const,
        'day' as const,
        'week' as const,
        'month' as const,
      ),
      interval: fc.integer({ min: 1, max: 5 }),
      startTime: fc.constantFrom('2025-03-30T02:30:00', '2025-01-31T01:30:00', '2025-06-01T00:00:00'),
    }),
  }),
);

test('next and prev agree: next(t) > t, prev(next(t)) ≤ t, and no occurrence lies strictly between', () => {
  fc.assert(
    fc.property(ruleArb, instant, (rule, t) => {
      const r = compileRule(rule);
      const n = r.next(t);
      if (n === undefined) return;
      assert.ok(n > t);
      const p = r.prev(n);
      assert.ok(p === undefined || p <= t, `prev(next(t)) = ${p} should be ≤ t = ${t}`);
      const n2 = r.next(n);
      if (n2 !== undefined) assert.equal(r.prev(n2), n);
    }),
    { numRuns: 300 },
  );
});

test('splitting an interval into evaluations fires each occurrence exactly once (catchUp all, no limit hit)', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('*/10 * * * * *', '0 * * * * *'),
      instant,
      fc.array(fc.integer({ min: 1, max: 120_000 }), { minLength: 1, maxLength: 20 }),
      (cron, start, steps) => {
        const rule = compileRule({ cron, timeZone: 'UTC' });
        let last = start;
        const fired: number[] = [];
        for (const s of steps) {
          const plan = planDue({
            rule,
            lastEvaluated: last,
            now: last + s,
            catchUp: 'all',
            catchUpLimit: 1000,
            graceMs: 60_000,
          });
          fired.push(...plan.fire.map((f) => f.occurrence));
          assert.equal(plan.missed, undefined);
          last = plan.evaluatedThrough;
        }
        const all = planDue({
          rule,
          lastEvaluated: start,
          now: last,
          catchUp: 'all',
          catchUpLimit: 100_000,
          graceMs: 0,
        });
        assert.deepEqual(
          fired,
          all.fire.map((f) => f.occurrence),
        );
      },
    ),
    { numRuns: 200 },
  );
});
