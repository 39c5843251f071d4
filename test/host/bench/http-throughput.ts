/**
 * HTTP throughput of the host for a trivial function (keep-alive, C concurrent clients, D seconds),
 * logs discarded. Run: node dist/test/host/bench/http-throughput.js [C] [D]
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startHost } from '../../../lib/host/index';
import { BASIC_APP } from '../support/storage';

export async function benchHttp(
  concurrency = 32,
  seconds = 5,
): Promise<{ requestsPerSecond: number; p50Ms: number; p99Ms: number }> {
  const host = await startHost({
    appDir: join(BASIC_APP, 'http-stream'),
    port: 0,
    embeddedStack: false,
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const r = request(`${host.baseUrl}/api/upload/bench?q=1`, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      });
      r.on('error', reject);
      r.end('payload');
    });
  try {
    const latencies: number[] = [];
    const end = performance.now() + seconds * 1000;
    const worker = async (): Promise<void> => {
      while (performance.now() < end) {
        const t = performance.now();
        await one();
        latencies.push(performance.now() - t);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (p: number): number =>
      Math.round(latencies[Math.floor((latencies.length - 1) * p)]! * 10) / 10;
    return { requestsPerSecond: Math.round(latencies.length / elapsed), p50Ms: pct(0.5), p99Ms: pct(0.99) };
  } finally {
    agent.destroy();
    await host.stop();
  }
}

if (require.main === module) {
  benchHttp(Number(process.argv[2] ?? 32), Number(process.argv[3] ?? 5)).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
