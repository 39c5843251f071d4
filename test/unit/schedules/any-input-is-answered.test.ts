import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validatePatch, validateSchedule } from '../../../lib/schedules/schema';
import { parseQueueMessage } from '../../../lib/triggers/queue-message';

/** No input of any shape throws (which would be a 500 or a retried message); every rejection has a pointer. */
test('schedule and queue-message validation answer every input with a value or pointed problems', () => {
  const near = fc.record(
    {
      name: fc.oneof(fc.string(), fc.constant('nightly')),
      pipeline: fc.oneof(fc.string(), fc.constant('churn')),
      cron: fc.oneof(fc.string(), fc.constantFrom('0 2 * * *', '*/10 * * * * *', '* * *', '61 * * * *')),
      timeZone: fc.oneof(fc.string(), fc.constantFrom('UTC', 'Europe/Amsterdam', 'Nowhere/Else')),
      recurrence: fc.anything(),
      overlap: fc.anything(),
      catchUpLimit: fc.anything(),
      parameters: fc.anything(),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(fc.anything(), near), (input) => {
      for (const r of [validateSchedule(input), validatePatch(input)])
        if (!r.ok) {
          assert.ok(r.errors.length > 0);
          for (const e of r.errors) assert.equal(typeof e.pointer, 'string');
        }
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.anything(),
        fc.string(),
        fc.string().map((s) => Buffer.from(s).toString('base64')),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64')),
      ),
      (input) => {
        const r = parseQueueMessage(input);
        if (!r.ok) assert.ok(r.problems.length > 0 && typeof r.text === 'string');
      },
    ),
    { numRuns: 500 },
  );
});
