/** Helpers for the compute-agent scenarios: agent child processes, job specs, waiting on job rows. */
import { after, before } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentOptions, type RunningAgent } from '../../lib/compute/agent';
import type { JobSpec } from '../../lib/compute/job';
import type { JobRow } from '../../lib/compute/job-row';
import { readJob } from '../../lib/compute/jobs';
import { startTestStack, type TestStack } from '../support/stack';

export const REPO = join(__dirname, '..', '..', '..');

export interface AgentProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `node bin/sluice.js agent --pool POOL …` as a child process with the stack's settings. */
export function startAgentProcess(
  pool: string,
  env: Record<string, string>,
  args: string[] = [],
): AgentProcess {
  let out = '';
  const child = spawn(process.execPath, [join(REPO, 'bin', 'sluice.js'), 'agent', '--pool', pool, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface AgentScenario {
  readonly stack: TestStack;
  /** A temp folder for the file's scenarios (the agent works in `<tmp>/work`). */
  readonly tmp: string;
  /** The in-process agent, when `agent` options were given. */
  readonly agent: RunningAgent;
}

/**
 * The agent scenarios' set-up, registered as the file's `before`/`after`: a test stack, a temp folder
 * and, given `agent` options, one in-process agent on `<tmp>/work` (quiet), all stopped after the file.
 */
export function useAgentScenario(
  name: string,
  agent?: Omit<AgentOptions, 'workDir' | 'log'> & Partial<Pick<AgentOptions, 'log'>>,
): AgentScenario {
  let stack: TestStack | undefined;
  let tmp: string | undefined;
  let running: RunningAgent | undefined;
  before(async () => {
    stack = await startTestStack();
    tmp = await mkdtemp(join(os.tmpdir(), `sluice-${name}-`));
    if (agent) {
      running = startAgent({ log: () => {}, ...agent, workDir: join(tmp, 'work') });
      await running.ready;
    }
  });
  after(async () => {
    await running?.stop();
    await stack?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not started yet (use it inside a test)`);
    return v;
  };
  return {
    get stack() {
      return started(stack, 'the test stack');
    },
    get tmp() {
      return started(tmp, 'the temp folder');
    },
    get agent() {
      return started(running, 'the agent (pass agent options)');
    },
  };
}

export function jobSpec(pool: string, overrides: Partial<JobSpec> = {}): JobSpec {
  const runId = overrides.runId ?? `run-${randomUUID().slice(0, 8)}`;
  return {
    jobId: `job-${randomUUID().slice(0, 8)}`,
    runId,
    stepName: 'step',
    attempt: 1,
    pool,
    kind: 'command',
    command: 'true',
    env: {},
    inputs: [],
    outputs: [],
    timeoutMs: 120_000,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Polls until `fn` returns a truthy value; fails with `what` after `ms`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 30_000,
  every = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export function waitForResult(spec: JobSpec, ms = 60_000): Promise<JobRow> {
  return waitFor(
    `job ${spec.jobId} to finish`,
    async () => {
      const row = await readJob(spec.runId, spec.jobId);
      return row?.result ? row : undefined;
    },
    ms,
  );
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Node one-liner as a shell word. */
export function nodeCmd(script: string): string {
  return `${JSON.stringify(process.execPath)} -e ${shellSingle(script)}`;
}

function shellSingle(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
