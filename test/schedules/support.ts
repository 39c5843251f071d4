import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../lib/cli/api-client';
import { publishFile } from '../../lib/cli/commands/publish';
import type { SluiceProcess } from '../support/sluice';

/** Fixture pipelines for schedule and trigger scenarios (source files live next to the compiled tests' sources). */
export const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'schedules', 'fixtures');

export async function publishFixture(sluice: SluiceProcess, name: string, key?: string): Promise<number> {
  const client = new ApiClient({ endpoint: sluice.baseUrl, ...(key ? { key } : {}) });
  const quiet = { log: () => {}, err: (s: string) => process.stderr.write(s + '\n') };
  const r = await publishFile(path.join(FIXTURES, name, 'pipeline.yaml'), client, quiet);
  return r.version;
}

/** Polls `probe` (real time) until it returns a value; fails with `what` and the last value seen. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
      last = v;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export interface HistoryEntry {
  id: string;
  decision: string;
  occurrence?: string;
  runId?: string;
  late?: boolean;
  reason?: string;
  count?: number;
  until?: string;
  canceledRunId?: string;
}

export async function history(sluice: SluiceProcess, schedule: string): Promise<HistoryEntry[]> {
  const r = await sluice.json<{ items: HistoryEntry[] }>(`/api/schedules/${schedule}/history?limit=200`);
  return r.items;
}

export async function runsOf(sluice: SluiceProcess, pipeline: string): Promise<any[]> {
  const r = await sluice.json<{ items: any[] }>(`/api/runs?pipeline=${pipeline}&limit=100`);
  return r.items;
}

export const ENDED = ['Completed', 'Failed', 'Canceled'];
