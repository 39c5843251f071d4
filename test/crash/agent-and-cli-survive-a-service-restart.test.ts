/**
 * Behaviour (issue 9, point 6): a `sluice agent` and a `sluice run --wait` started against the local
 * service survive its restart. The service is killed (`kill -9 -PGID`) while the agent runs a step and
 * the CLI waits for the run; after a restart on the same data folder the stack is on the same ports, the
 * agent delivers that step's result, the CLI reports the completed run, and the agent runs the next
 * pipeline. Before, the stack came back on new ports: the agent failed with ECONNREFUSED for ever and
 * the CLI gave up at once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSluice, type SluiceProcess } from '../support/sluice';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'sluice.js');
const SCRIPT = path.join(ROOT, 'test', 'crash', 'fixtures', 'record-step.js');

let sluice: SluiceProcess | undefined;
const children: ChildProcess[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-reconnect-'));
const record = path.join(dir, 'executions.jsonl');
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  await sluice?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function cli(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; exited: Promise<unknown[]>; output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = once(child, 'exit');
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return { child, exited, output: () => out };
}

async function until(what: string, fn: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const starts = (): string[] =>
  fs.existsSync(record)
    ? fs
        .readFileSync(record, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { run: string; what: string })
        .filter((e) => e.what === 'start')
        .map((e) => e.run)
    : [];

test('a remote agent and a waiting CLI reconnect after the service restarts, and the agent runs the next pipeline', async () => {
  sluice = await startSluice({
    processGroup: true,
    env: { SLUICE_COMPUTE_TARGETS: JSON.stringify({ local: { pool: 'local' }, remote: { pool: 'remote' } }) },
  });
  const env = { AzureWebJobsStorage: sluice.env.AzureWebJobsStorage, SLUICE_ENDPOINT: sluice.baseUrl };
  const agent = cli(['agent', '--pool', 'remote', '--work-dir', path.join(dir, 'agent')], env);
  await until('the agent to serve', () => /serving pool remote/.test(agent.output()));

  const command = (ms: number): string =>
    `node ${JSON.stringify(SCRIPT)} --record ${JSON.stringify(record)} --ms ${ms} --out \${{outputs.o}}`;
  await sluice.json('/api/pipelines', {
    method: 'POST',
    body: {
      name: 'on-remote',
      parameters: { tag: { type: 'string', default: 'x' } },
      steps: {
        work: {
          command: `${command(3000)} --tag \${{parameters.tag}}`,
          compute: 'remote',
          outputs: { o: { type: 'file' } },
        },
      },
    },
  });

  // The CLI waits for a run whose step runs on the agent; the service dies under both.
  const wait = cli(['run', 'on-remote', '--param', 'tag=first', '--wait'], env);
  await until('the step to start on the agent', () => starts().length === 1);
  await sluice.killGroup();
  await sluice.restart();
  assert.equal(sluice.env.AzureWebJobsStorage, env.AzureWebJobsStorage, 'the stack kept its endpoints');

  const giveUp = new AbortController();
  const [code] = (await Promise.race([
    wait.exited,
    sleep(90_000, undefined, { signal: giveUp.signal }).then(() => ['no exit']),
  ]).finally(() => giveUp.abort())) as [number | string];
  assert.equal(code, 0, `sluice run --wait: ${wait.output()}\n--- agent ---\n${agent.output()}`);
  assert.match(wait.output(), /run r-\S+ completed/);

  // The agent is still serving: the next run on its pool runs there.
  const { runId } = await sluice.json<{ runId: string }>('/api/pipelines/on-remote/runs', {
    method: 'POST',
    body: { parameters: { tag: 'second' } },
  });
  let run: { status: string } = { status: 'Queued' };
  const deadline = Date.now() + 90_000;
  while (!['Completed', 'Failed', 'Canceled'].includes(run.status)) {
    if (Date.now() > deadline)
      assert.fail(`the second run did not end: ${JSON.stringify(run)}\n--- agent ---\n${agent.output()}`);
    await sleep(200);
    run = await sluice.json(`/api/runs/${runId}`);
  }
  assert.equal(run.status, 'Completed', JSON.stringify(run));
  assert.ok(starts().includes(runId), 'the agent ran the second run');
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
});
