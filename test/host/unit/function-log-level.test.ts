/** Behaviour: host.json logging.logLevel (Function, else default) filters invocation and function logs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { functionLogger } from '../../../lib/host/index';

function sink() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (m: string) => lines.push(`I ${m}`),
      warn: (m: string) => lines.push(`W ${m}`),
      error: (m: string) => lines.push(`E ${m}`),
    },
  };
}
const emit = (l: ReturnType<typeof functionLogger>) => {
  l.info('i');
  l.warn('w');
  l.error('e');
};

test('Information (the default) keeps everything', () => {
  const s = sink();
  emit(functionLogger(s.log, {}));
  assert.deepEqual(s.lines, ['I i', 'W w', 'E e']);
});

test('Warning drops the success lines; Function wins over default; None drops all', () => {
  const s = sink();
  emit(functionLogger(s.log, { logging: { logLevel: { default: 'Information', Function: 'Warning' } } }));
  assert.deepEqual(s.lines, ['W w', 'E e']);
  const t = sink();
  emit(functionLogger(t.log, { logging: { logLevel: { default: 'Error' } } }));
  assert.deepEqual(t.lines, ['E e']);
  const u = sink();
  emit(functionLogger(u.log, { logging: { logLevel: { default: 'None' } } }));
  assert.deepEqual(u.lines, []);
});
