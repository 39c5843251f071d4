import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSchedule } from '../../../lib/schedules/schema';

const pointers = (r: ReturnType<typeof validateSchedule>) =>
  r.ok ? [] : r.errors.map((e) => e.pointer).sort();

test('schedule validation reports every problem with a pointer, and fills defaults', () => {
  const ok = validateSchedule({
    name: 'nightly',
    pipeline: 'churn',
    cron: '0 2 * * *',
    timeZone: 'Europe/Amsterdam',
  });
  assert.ok(ok.ok);
  assert.equal(ok.value.overlap, 'skip');
  assert.equal(ok.value.catchUp, 'latest');
  assert.equal(ok.value.catchUpLimit, 100);
  assert.equal(ok.value.enabled, true);

  assert.deepEqual(pointers(validateSchedule({ name: 'n1x', pipeline: 'p1x', cron: '61 * * * *' })), [
    '/cron',
  ]);
  assert.deepEqual(pointers(validateSchedule({ name: 'n1x', pipeline: 'p1x', cron: '* * * *' })), ['/cron']);
  assert.deepEqual(
    pointers(validateSchedule({ name: 'n1x', pipeline: 'p1x', cron: '* * * * *', timeZone: 'Mars/Base' })),
    ['/timeZone'],
  );
  // A bad name, a bad overlap and a bad cron come back together.
  assert.deepEqual(
    pointers(validateSchedule({ name: 'Bad Name', pipeline: 'p1x', overlap: 'never', cron: 'x' })),
    ['/cron', '/name', '/overlap'],
  );
  assert.deepEqual(pointers(validateSchedule({ name: 'n1x', pipeline: 'p1x' })), ['']);
  assert.deepEqual(
    pointers(
      validateSchedule({
        name: 'n1x',
        pipeline: 'p1x',
        recurrence: { frequency: 'minute', startTime: 'soon', hours: [3], weekDays: ['monday'] },
      }),
    ),
    ['/recurrence/hours', '/recurrence/startTime', '/recurrence/weekDays'],
  );
  assert.deepEqual(
    pointers(validateSchedule({ name: 'n1x', pipeline: 'p1x', cron: '* * * * *', extra: 1 })),
    ['/extra'],
  );
  for (const junk of [null, 3, 'x', [], { name: 5 }]) assert.equal(validateSchedule(junk).ok, false);
});
