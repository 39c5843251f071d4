import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageKey, parseQueueMessage } from '../../../lib/triggers/queue-message';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

test('run messages decode from JSON, JSON text, base64 JSON or base64 twice, and every problem has a pointer', () => {
  const body = { pipeline: 'batch-scoring', inputs: { data: 'customers@latest' }, idempotencyKey: 'k1' };
  for (const v of [
    body,
    JSON.stringify(body),
    b64(JSON.stringify(body)),
    b64(b64(JSON.stringify(body))),
    // `base64` without -w0 wraps its output at 76 characters.
    b64(JSON.stringify(body)).replace(/(.{76})/g, '$1\n'),
    b64(JSON.stringify(JSON.stringify(body))),
    JSON.stringify(JSON.stringify(body)),
    Buffer.from(JSON.stringify(body)),
  ]) {
    const r = parseQueueMessage(v);
    assert.ok(r.ok, `decodes ${typeof v === 'string' ? v.slice(0, 30) : 'object'}`);
    assert.equal(r.message.pipeline, 'batch-scoring');
  }
  const bad = parseQueueMessage({
    pipeline: 'Bad Name',
    version: 0,
    inputs: { data: 3 },
    replyTo: 'No_Such',
    colour: 'x',
  });
  assert.equal(bad.ok, false);
  assert.deepEqual((bad as { problems: Array<{ pointer: string }> }).problems.map((p) => p.pointer).sort(), [
    '/colour',
    '/inputs/data',
    '/pipeline',
    '/replyTo',
    '/version',
  ]);
  for (const junk of [
    '',
    'hello',
    '{"pipeline":',
    '[1]',
    42,
    null,
    b64('not json'),
    b64(b64('not json')),
    'abcd',
  ]) {
    const r = parseQueueMessage(junk);
    assert.equal(r.ok, false, `rejects ${JSON.stringify(junk)}`);
    assert.ok((r as { problems: unknown[] }).problems.length > 0);
  }
  // Encoding is bounded: a message wrapped many times over is refused with a reason, not decoded forever.
  let deep = JSON.stringify(body);
  for (let i = 0; i < 8; i++) deep = b64(deep);
  const tooDeep = parseQueueMessage(deep);
  assert.equal(tooDeep.ok, false);
  assert.match(
    (tooDeep as { problems: Array<{ message: string }> }).problems[0]!.message,
    /encoded more than/,
  );

  const outputs = parseQueueMessage({
    pipeline: 'abc',
    outputs: { scores: { dataset: 'x' }, 'score.scores': { dataset: 'x' } },
  });
  assert.deepEqual(
    (outputs as { problems: Array<{ pointer: string }> }).problems.map((p) => p.pointer),
    ['/outputs/scores'],
  );

  assert.equal(messageKey({ pipeline: 'abc', idempotencyKey: 'k' }, 'm1'), 'k');
  assert.equal(messageKey({ pipeline: 'abc' }, 'm1'), 'queue:m1');
});
