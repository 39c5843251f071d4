import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, publish, startRun, step, waitFor, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('GET …/logs?follow=true streams a step’s output while it runs and ends when the step ends', async () => {
  await publish(sluice, {
    name: 'chatty',
    steps: { talk: { command: 'for i in 1 2 3 4 5 6 7 8; do echo "line $i"; sleep 0.4; done' } },
  });
  const runId = await startRun(sluice, 'chatty');
  await waitFor(
    'the step to start',
    async () =>
      ['Running', 'Completed'].includes(step(await getRun(sluice, runId), 'talk').status) || undefined,
  );

  const res = await sluice.api(`/api/runs/${runId}/steps/talk/logs?follow=true`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let statusAtFirstLine: string | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (statusAtFirstLine === undefined && /line 1\b/.test(text))
      statusAtFirstLine = (await getRun(sluice, runId)).status;
  }
  assert.equal(statusAtFirstLine, 'Running', 'the first line arrived before the run ended');
  for (let i = 1; i <= 8; i++) assert.match(text, new RegExp(`line ${i}\\b`));
  assert.equal((await waitForRun(sluice, runId)).status, 'Completed');

  // Without follow: the whole log at once, to its last line, although the step's completion event went
  // out beside the log's last write (the reader waits for the log's completion mark).
  const whole = await (await sluice.api(`/api/runs/${runId}/steps/talk/logs`)).text();
  assert.match(whole, /line 8/);
  assert.match(whole, /\] succeeded; outputs none\n$/);
  assert.match(text, /\] succeeded; outputs none\n$/, 'the followed stream ends with the last line too');
});
