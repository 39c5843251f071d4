import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ledger, needOf } from '../../lib/compute/admission';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { targetLiveView } from '../../lib/compute/live';
import { jobSpec, nodeCmd, useAgentScenario, waitFor, waitForResult } from './support';

const s = useAgentScenario('admission', {
  pool: 'gpus',
  capacity: { cpu: 4, memoryGb: 8, gpu: 2 },
  presenceMs: 200,
});

test('the ledger never holds more than the machine offers, whatever jobs come and go', () => {
  const need = fc.record({
    cpu: fc.option(fc.constantFrom(0.5, 1, 2, 3), { nil: undefined }),
    memoryGb: fc.option(fc.constantFrom(1, 2, 4), { nil: undefined }),
    gpu: fc.option(fc.constantFrom(0, 1, 2), { nil: undefined }),
  });
  const op = fc.oneof(
    fc.record({ kind: fc.constant('take' as const), key: fc.nat(6), need }),
    fc.record({ kind: fc.constant('give' as const), key: fc.nat(6) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const l = new Ledger({ cpu: 4, memoryGb: 8, gpu: 2 });
      const held = new Map<number, ReturnType<typeof needOf>>();
      for (const o of ops) {
        if (o.kind === 'take') {
          const n = needOf(o.need);
          const fits =
            !held.has(o.key) &&
            [...held.values()].reduce((a, h) => a + h.gpu, 0) + n.gpu <= 2 &&
            [...held.values()].reduce((a, h) => a + h.cpu, 0) + n.cpu <= 4 &&
            [...held.values()].reduce((a, h) => a + h.memoryGb, 0) + n.memoryGb <= 8;
          assert.equal(l.take(String(o.key), n), fits);
          if (fits) held.set(o.key, n);
        } else {
          l.give(String(o.key));
          held.delete(o.key);
        }
        const f = l.free();
        assert.ok(f.cpu >= -1e-9 && f.memoryGb >= -1e-9 && f.gpu >= 0);
        assert.equal(l.count, held.size);
      }
    }),
  );
});

test('a 2-GPU agent runs two 1-GPU jobs at once, and a 2-GPU job only when both GPUs are free', async () => {
  const stamp = (name: string): string =>
    nodeCmd(
      `const fs=require('fs');const f=process.argv[1];fs.appendFileSync(f,JSON.stringify({name:'${name}',at:'start',t:Date.now()})+'\\n');setTimeout(()=>{fs.appendFileSync(f,JSON.stringify({name:'${name}',at:'end',t:Date.now()})+'\\n')},1500)`,
    ) + ` ${JSON.stringify(join(s.tmp, 'stamps.jsonl'))}`;
  const a = jobSpec('gpus', { command: stamp('a'), resources: { gpu: 1 } });
  const b = jobSpec('gpus', { command: stamp('b'), resources: { gpu: 1 } });
  const c = jobSpec('gpus', { command: stamp('c'), resources: { gpu: 2 } });
  await enqueueJob(a);
  await enqueueJob(b);
  await enqueueJob(c);
  const view = await waitFor('the live view to list the agent with its running jobs', async () => {
    const v = await targetLiveView({ name: 'g', backend: 'agent', pool: 'gpus', environment: {} });
    return v.agents?.find((x) => x.running.length === 2) ? v : undefined;
  });
  assert.equal(view.agents![0]!.free.gpu, 0, 'both GPUs are held');
  assert.equal(view.queueDepth, 1, 'the 2-GPU job waits on the queue');
  for (const j of [a, b, c]) assert.equal((await waitForResult(j)).result?.state, 'succeeded');
  const stamps = (await readFile(join(s.tmp, 'stamps.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; at: string; t: number });
  const t = (name: string, at: string): number => stamps.find((x) => x.name === name && x.at === at)!.t;
  assert.ok(t('b', 'start') < t('a', 'end') && t('a', 'start') < t('b', 'end'), 'a and b overlapped');
  assert.ok(t('c', 'start') >= Math.max(t('a', 'end'), t('b', 'end')), 'c waited for both GPUs');
});
