/**
 * Measures the host's per-invocation overhead: N no-op invocations through HostContext.invoke (the
 * path the durable engine uses), with and without hooks' bookkeeping and log output discarded.
 * Run: node dist/test/host/bench/invoke-overhead.js [N]
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startHost } from '../../../lib/host/index';
import type { HostContext, HostExtension } from '../../../lib/host/types';
import { BASIC_APP } from '../support/storage';

export async function benchInvokeOverhead(n = 10_000): Promise<Record<string, number>> {
  let ctx: HostContext | undefined;
  const probe: HostExtension = {
    name: 'bench-probe',
    triggerTypes: ['benchTrigger'],
    async start(c) {
      ctx = c;
    },
    async stop() {},
  };
  let lines = 0;
  const host = await startHost({
    appDir: join(BASIC_APP, 'noop'),
    port: 0,
    embeddedStack: false,
    extensions: [probe],
    logger: { info: () => void lines++, warn: () => {}, error: () => {} },
  });
  try {
    const value = { a: 1, b: 'two', c: [1, 2, 3] };
    for (let i = 0; i < 2000; i++) await ctx!.invoke('noop', value); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await ctx!.invoke('noop', value);
    const sequentialMs = performance.now() - t0;
    const t1 = performance.now();
    const batch = 100;
    for (let i = 0; i < n; i += batch)
      await Promise.all(Array.from({ length: batch }, () => ctx!.invoke('noop', value)));
    const concurrentMs = performance.now() - t1;
    return {
      invocations: n,
      sequentialMs: Math.round(sequentialMs),
      sequentialUsPerInvoke: Math.round((sequentialMs * 1000) / n),
      sequentialPerSecond: Math.round(n / (sequentialMs / 1000)),
      concurrent100UsPerInvoke: Math.round((concurrentMs * 1000) / n),
      concurrent100PerSecond: Math.round(n / (concurrentMs / 1000)),
      logLines: lines,
    };
  } finally {
    await host.stop();
  }
}

/** Entry for `npm run bench` (test/bench/main.ts): prints `name value` lines. */
export async function run(): Promise<void> {
  const r = await benchInvokeOverhead(10_000);
  console.log(`host.invoke.sequential_us_per_call ${r.sequentialUsPerInvoke}`);
  console.log(`host.invoke.sequential_calls_per_s ${r.sequentialPerSecond}`);
  console.log(`host.invoke.concurrent100_us_per_call ${r.concurrent100UsPerInvoke}`);
  console.log(`host.invoke.concurrent100_calls_per_s ${r.concurrent100PerSecond}`);
}

if (require.main === module) {
  benchInvokeOverhead(Number(process.argv[2] ?? 10_000)).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
