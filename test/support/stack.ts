/**
 * An in-memory embedded stack for module tests that need Azurite and Cosmos but not the host.
 * `startTestStack()` applies the stack's settings to `process.env` (so `getClients()` uses it) and
 * `stop()` restores the previous values.
 */
import os from 'node:os';
import { startEmbeddedStack, type RunningStack } from '../../lib/stack';

export interface TestStack {
  env: Record<string, string>;
  pids: NonNullable<RunningStack['pids']>;
  stop(): Promise<void>;
}

export async function startTestStack(opts: { applyEnv?: boolean } = {}): Promise<TestStack> {
  const stack = await startEmbeddedStack({
    dataDir: os.tmpdir(),
    inMemory: true,
    env: {},
    writeStackFile: false,
  });
  const previous: Record<string, string | undefined> = {};
  if (opts.applyEnv ?? true) {
    for (const [k, v] of Object.entries(stack.env)) {
      previous[k] = process.env[k];
      process.env[k] = v;
    }
  }
  return {
    env: stack.env,
    pids: stack.pids ?? {},
    async stop() {
      await stack.stop();
      for (const [k, v] of Object.entries(previous)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}
