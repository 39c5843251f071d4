/**
 * Measures the host's per-invocation overhead: no-op invocations through HostContext.invoke (the
 * path the durable engine uses; log output discarded), against two baselines measured in the same
 * process and rounds (the machine is shared, so each figure is the best of 3 rounds):
 *   library — the @azure/functions InvocationModel path alone (getArguments + invokeFunction);
 *   bare    — calling the handler with a fresh InvocationContext.
 * Run: node dist/test/host/bench/invoke-overhead.js [N]
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InvocationContext } from '@azure/functions';
import { startHost } from '../../../lib/host/index';
import { getProgrammingModel } from '../../../lib/host/core-api';
import type { HostContext, HostExtension } from '../../../lib/host/types';
import { BASIC_APP } from '../support/storage';
import { benchHttp } from './http-throughput';

export interface InvokeOverhead {
  invocations: number;
  hostUsPerInvoke: number;
  hostPerSecond: number;
  hostConcurrent100UsPerInvoke: number;
  libraryUsPerInvoke: number;
  bareUsPerInvoke: number;
}

export async function benchInvokeOverhead(n = 10_000, rounds = 3): Promise<InvokeOverhead> {
  let ctx: HostContext | undefined;
  const probe: HostExtension = {
    name: 'bench-probe',
    triggerTypes: ['benchTrigger'],
    async start(c) {
      ctx = c;
    },
    async stop() {},
  };
  const host = await startHost({
    appDir: join(BASIC_APP, 'noop'),
    port: 0,
    embeddedStack: false,
    extensions: [probe],
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  try {
    const value = { a: 1, b: 'two', c: [1, 2, 3] };
    const pm = getProgrammingModel()!;
    const fn = host.functions.get('noop')!;
    const metadata = { name: fn.name, bindings: fn.bindings };
    const handler = (x: unknown, _context?: unknown): unknown => x;

    const viaHost = async (): Promise<void> => {
      for (let i = 0; i < n; i++) await ctx!.invoke('noop', value);
    };
    const viaHostConcurrent = async (): Promise<void> => {
      for (let i = 0; i < n; i += 100)
        await Promise.all(Array.from({ length: 100 }, () => ctx!.invoke('noop', value)));
    };
    const viaLibrary = async (): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        const model = pm.getInvocationModel({
          invocationId: id,
          request: { invocationId: id, functionId: fn.name, inputData: [], triggerMetadata: {} },
          metadata,
          log: () => {},
        });
        const { context } = await model.getArguments();
        await model.invokeFunction(context, [value], handler);
      }
    };
    const bare = async (): Promise<void> => {
      for (let i = 0; i < n; i++)
        await Promise.resolve(
          handler(value, new InvocationContext({ invocationId: randomUUID(), functionName: 'noop' })),
        );
    };
    const best = { host: Infinity, concurrent: Infinity, library: Infinity, bare: Infinity };
    const time = async (f: () => Promise<void>): Promise<number> => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    await viaHost(); // warm-up
    for (let r = 0; r < rounds; r++) {
      best.host = Math.min(best.host, await time(viaHost));
      best.concurrent = Math.min(best.concurrent, await time(viaHostConcurrent));
      best.library = Math.min(best.library, await time(viaLibrary));
      best.bare = Math.min(best.bare, await time(bare));
    }
    const us = (ms: number): number => Math.round((ms * 1000) / n);
    return {
      invocations: n,
      hostUsPerInvoke: us(best.host),
      hostPerSecond: Math.round(n / (best.host / 1000)),
      hostConcurrent100UsPerInvoke: us(best.concurrent),
      libraryUsPerInvoke: us(best.library),
      bareUsPerInvoke: us(best.bare),
    };
  } finally {
    await host.stop();
  }
}

/** Entry for `npm run bench` (test/bench/main.ts): prints `name value` lines. */
export async function run(): Promise<void> {
  const r = await benchInvokeOverhead(10_000);
  console.log(`host.invoke.us_per_call ${r.hostUsPerInvoke}`);
  console.log(`host.invoke.calls_per_s ${r.hostPerSecond}`);
  console.log(`host.invoke.concurrent100_us_per_call ${r.hostConcurrent100UsPerInvoke}`);
  console.log(`host.invoke.library_only_us_per_call ${r.libraryUsPerInvoke}`);
  console.log(`host.invoke.bare_call_us_per_call ${r.bareUsPerInvoke}`);
  const h = await benchHttp(32, 5);
  console.log(`host.http.requests_per_s ${h.requestsPerSecond}`);
  console.log(`host.http.p50_ms ${h.p50Ms}`);
  console.log(`host.http.p99_ms ${h.p99Ms}`);
}

if (require.main === module) {
  benchInvokeOverhead(Number(process.argv[2] ?? 10_000)).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
