import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import {
  publish,
  readJournal,
  ROOT,
  sluiceCli,
  startRun,
  step,
  stepCommand,
  tempJournal,
  waitFor,
  waitForRun,
} from '../runs/helpers';
import type { AgentProcess } from './support';

let sluice: SluiceProcess;
let tmp: string;
const agents: AgentProcess[] = [];

/** The agent's environment: nothing of the storage account, no Cosmos. */
function bareEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AzureWebJobsStorage|COSMOS_|SLUICE_)/.test(k)) env[k] = v;
  return env;
}

before(async () => {
  // Credentials live 12 s, so the agent renews them (at half-life) during the test.
  sluice = await startSluice({ env: { SLUICE_AGENT_CREDENTIALS_TTL_SECONDS: '12' } });
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-keyed-agent-'));
});
after(async () => {
  for (const a of agents) await a.stop();
  await sluice?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('a remote agent with only the endpoint and an agent key runs jobs, renews its credentials, and stops when the key is revoked', async () => {
  const cli = sluiceCli(sluice);
  const created = await cli('compute', 'keys', 'create', '--pool', 'remote');
  const key = created.stdout.trim();
  assert.match(key, /^sak\.[0-9a-f]{12}\./);
  await cli('compute', 'add', 'remote', '--pool', 'remote');

  // The agent process must not see the storage account: spawn it with a bare environment.
  const a = startAgentProcessBare(key);
  await waitFor(
    'the agent to start',
    () => (/with scoped credentials/.test(a.output()) ? true : undefined),
    30_000,
  );

  const journal = tempJournal();
  await publish(sluice, {
    name: 'remote-run',
    steps: {
      work: { command: stepCommand('work', journal), outputs: { o: { type: 'file' } }, compute: 'remote' },
    },
  });
  const first = await waitForRun(sluice, await startRun(sluice, 'remote-run'), 60_000);
  assert.equal(first.status, 'Completed', JSON.stringify(first) + a.output());
  assert.ok(step(first, 'work').outputs?.o);

  // Past the first credentials' lifetime: the renewed ones run the next job.
  await new Promise((r) => setTimeout(r, 14_000));
  await publish(sluice, {
    name: 'remote-run-2',
    steps: {
      work2: { command: stepCommand('work2', journal), outputs: { o: { type: 'file' } }, compute: 'remote' },
    },
  });
  const second = await waitForRun(sluice, await startRun(sluice, 'remote-run-2'), 60_000);
  assert.equal(second.status, 'Completed', a.output());

  // Revoked: the next renewal or job is refused, the agent says why and stops.
  const id = key.split('.')[1]!;
  await cli('compute', 'keys', 'revoke', id);
  const exit = await waitFor(
    'the agent to stop',
    () => (a.child.exitCode !== null ? a.child.exitCode : undefined),
    30_000,
  );
  assert.equal(exit, 3);
  assert.match(a.output(), /refused the agent key: Agent key [0-9a-f]+ is unknown or was revoked/);
  assert.ok(readJournal(journal).length >= 1);
});

test('a wrong agent key is refused at start with a clear error', async () => {
  const a = startAgentProcessBare('sak.000000000000.not-a-real-key-at-all-xx');
  const code = await new Promise<number | null>((r) => a.child.once('exit', r));
  assert.equal(code, 1);
  assert.match(a.output(), /Sluice refused the agent key: Agent key 000000000000 is unknown or was revoked/);
});

function startAgentProcessBare(key: string): AgentProcess {
  let out = '';
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'sluice.js'),
      'agent',
      '--pool',
      'remote',
      '--endpoint',
      sluice.baseUrl,
      '--key',
      key,
      '--work-dir',
      join(tmp, 'w'),
    ],
    { env: bareEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const a: AgentProcess = {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  agents.push(a);
  return a;
}
