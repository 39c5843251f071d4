import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CosmosClient } from '@azure/cosmos';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun } from './helpers';

/**
 * The cost of a completion must not grow with the run: the history an orchestration episode replays and
 * the largest document a run writes stay under fixed limits for a 1,000-step chain and a parallelRun of
 * 2,000 mini-batches. Bounds, never times. `SLUICE_TEST_LARGE_SCALE` (0–1) shrinks both for a quick look.
 */
const scale = Number(process.env.SLUICE_TEST_LARGE_SCALE ?? 1);
const STEPS = Math.max(10, Math.round(1000 * scale));
const BATCHES = Math.max(20, Math.round(2000 * scale));
/** History events in one generation: 40 advances with their waits and events, whatever the run's size. */
const MAX_HISTORY = 600;
/** Cosmos DB refuses items over 2 MB; a step page holds about 64 records, whatever the run's size. */
const MAX_DOCUMENT = 200_000;
/** A parallelRun's history and largest document, whatever its number of mini-batches (32 shards at 8 slots). */
const MAX_SHARDED_HISTORY = 300;
const MAX_SHARDED_DOCUMENT = 20_000;

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

/** The largest document the run has in the `runs` container (its head and its step pages), in bytes. */
async function largestStored(runId: string): Promise<number> {
  const client = new CosmosClient({
    endpoint: sluice.env.COSMOS_ENDPOINT!,
    key: sluice.env.COSMOS_KEY!,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  const { resources } = await client
    .database(sluice.env.COSMOS_DATABASE ?? 'sluice')
    .container('runs')
    .items.query({ query: 'SELECT * FROM c WHERE c.runId = @r', parameters: [{ name: '@r', value: runId }] })
    .fetchAll();
  assert.ok(resources.length > 0, `run ${runId} has documents`);
  return Math.max(...resources.map((d) => Buffer.byteLength(JSON.stringify(d))));
}

/** Follows a run to its end, sampling its orchestration's history length and its largest document. */
async function watch(
  runId: string,
): Promise<{ runId: string; status: string; maxHistory: number; maxDocument: number; errors: string }> {
  let maxHistory = 0;
  let maxDocument = 0;
  const deadline = Date.now() + 1_200_000;
  for (;;) {
    assert.ok(Date.now() < deadline, `run ${runId} did not end in 20 minutes`);
    const status = await sluice.api(
      `/runtime/webhooks/durabletask/instances/${runId}?showHistory=true&showHistoryOutput=true`,
    );
    if (status.ok) {
      const s = (await status.json()) as { historyEvents?: unknown[] };
      maxHistory = Math.max(maxHistory, s.historyEvents?.length ?? 0);
    }
    const doc = await (await sluice.api(`/api/runs/${runId}`)).text();
    maxDocument = Math.max(maxDocument, await largestStored(runId));
    const run = JSON.parse(doc) as { status: string; steps: Array<{ name: string; error?: unknown }> };
    if (['Completed', 'Failed', 'Canceled'].includes(run.status))
      return {
        runId,
        status: run.status,
        maxHistory,
        maxDocument,
        errors: JSON.stringify(run.steps.filter((x) => x.error).map((x) => [x.name, x.error])),
      };
    await sleep(1000);
  }
}

test(`a ${STEPS}-step chain: bounded history per episode and a bounded run document`, async () => {
  const steps: Record<string, unknown> = {};
  for (let i = 0; i < STEPS; i++)
    steps[`s${i}`] = { command: `true s${i}`, ...(i ? { after: [`s${i - 1}`] } : {}) };
  await publish(sluice, { name: 'large-chain', steps });
  const r = await watch(await startRun(sluice, 'large-chain'));
  console.log(`# chain of ${STEPS}: history ≤ ${r.maxHistory} events, run document ≤ ${r.maxDocument} bytes`);
  assert.equal(r.status, 'Completed', r.errors);
  assert.ok(r.maxHistory > 0, 'the history was sampled');
  assert.ok(r.maxHistory <= MAX_HISTORY, `history reached ${r.maxHistory} events (limit ${MAX_HISTORY})`);
  assert.ok(r.maxDocument <= MAX_DOCUMENT, `the run document reached ${r.maxDocument} bytes`);
});

test(`a parallelRun of ${BATCHES} mini-batches: bounded history per episode and a bounded run document`, async () => {
  await publish(sluice, {
    name: 'large-parallel',
    settings: { maxConcurrency: 8 },
    steps: {
      make: {
        args: [
          'node',
          '-e',
          'const fs=require("fs");const [n,d]=process.argv.slice(1);fs.mkdirSync(d,{recursive:true});for(let i=0;i<+n;i++)fs.writeFileSync(d+"/f"+i,"r"+i+"\\n")',
          String(BATCHES),
          '${{outputs.files}}',
        ],
        outputs: { files: { type: 'directory' } },
      },
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.files}}',
        miniBatchSize: 1,
        command: 'cat "$(cat ${{minibatch}})" > ${{outputs.o}}',
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const r = await watch(await startRun(sluice, 'large-parallel'));
  console.log(
    `# ${BATCHES} batches: history ≤ ${r.maxHistory} events, run document ≤ ${r.maxDocument} bytes`,
  );
  assert.equal(r.status, 'Completed', r.errors);
  assert.ok(r.maxHistory <= MAX_HISTORY, `history reached ${r.maxHistory} events (limit ${MAX_HISTORY})`);
  assert.ok(r.maxDocument <= MAX_DOCUMENT, `the run document reached ${r.maxDocument} bytes`);
  // The mini-batches run in at most 4 × 8 shard jobs: the plan, the history and the documents hold one
  // small state per shard, so these limits do not move with the number of mini-batches.
  assert.ok(
    r.maxHistory <= MAX_SHARDED_HISTORY,
    `history reached ${r.maxHistory} events (limit ${MAX_SHARDED_HISTORY})`,
  );
  assert.ok(r.maxDocument <= MAX_SHARDED_DOCUMENT, `a document reached ${r.maxDocument} bytes`);
  const run = (await (await sluice.api(`/api/runs/${r.runId}`)).json()) as {
    steps: Array<{ name: string; batches?: unknown }>;
  };
  assert.deepEqual(run.steps.find((x) => x.name === 'score')?.batches, {
    total: BATCHES,
    running: 0,
    succeeded: BATCHES,
    failed: 0,
  });
  const rows = (await (await sluice.api(`/api/runs/${r.runId}/steps/score/outputs/o`)).text()).split('\n');
  assert.equal(rows.length - 1, BATCHES, 'one row per mini-batch');
  assert.deepEqual(rows.slice(0, 3), ['r0', 'r1', 'r10'], 'rows in mini-batch (path) order');
});
