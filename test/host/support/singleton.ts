/**
 * Several host processes of the singleton fixture app (test/fixtures/apps/basic/singleton) on one
 * storage account, each on its own manual clock. Its timers append one JSON line per run to a file
 * outside the hosts, so runs are counted across processes, and killed processes too.
 */
import { after, before } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startHostProcess, type SluiceProcess } from '../../support/sluice';
import { BASIC_APP, startTestStorage, type TestStorage } from './storage';

export const SINGLETON_APP = join(BASIC_APP, 'singleton');
export const SINGLETON_HOST_ID = 'sluice-fixture-singleton';

export interface TimerRun {
  fn: 'heartbeat' | 'warmup';
  pid: number;
  /** The occurrence (schedule status `next`) for heartbeat runs. */
  next: string | null;
  isPastDue: boolean;
}

export function readRuns(file: string): TimerRun[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TimerRun);
}

export interface HostStatus {
  state: string;
  hostId: string;
  timers: Record<string, string>;
}

/** A host process of `appDir` on a manual clock, ready once it is running (its timers started). */
export function startTimerHost(appDir: string, env: Record<string, string>): Promise<SluiceProcess> {
  return startHostProcess(appDir, { stack: false, env, manualClock: true, readyPath: '/admin/host/status' });
}

export function hostStatus(h: SluiceProcess): Promise<HostStatus> {
  return h.json<HostStatus>('/admin/host/status');
}

export async function clockOf(h: SluiceProcess): Promise<number> {
  return Date.parse((await h.json<{ now: string }>('/admin/host/clock')).now);
}

/** Moves the host's manual clock to `t` and returns once the host is idle (fired timers finished). */
export async function moveClock(h: SluiceProcess, t: number): Promise<void> {
  await h.json(`/admin/host/clock/advance?to=${new Date(t).toISOString()}&wait=true`, { method: 'POST' });
}

/** The lease state of a timer's listener lock blob: `leased`, `available` (released) or `expired`. */
export async function listenerLeaseState(connectionString: string, fn: string): Promise<string | undefined> {
  const blob = BlobServiceClient.fromConnectionString(connectionString)
    .getContainerClient('azure-webjobs-hosts')
    .getBlobClient(`locks/${SINGLETON_HOST_ID}/Host.Functions.${fn}.Listener`);
  return (await blob.getProperties()).leaseState;
}

/** The first whole minute at least a minute after every host's clock: a common instant to move them to. */
export async function commonMinute(hosts: SluiceProcess[]): Promise<number> {
  const latest = Math.max(...(await Promise.all(hosts.map(clockOf))));
  return Math.ceil(latest / 60_000) * 60_000 + 60_000;
}

export interface TimerHostsScenario {
  readonly storage: TestStorage;
  /** Where the fixture's timers journal their runs (`SINGLETON_TIMER_LOG`). */
  readonly runsFile: string;
  /** The hosts a test started: all stopped after the file's tests. */
  readonly hosts: SluiceProcess[];
}

/** One storage account, a journal file, and the hosts a test starts: the file's `before`/`after`. */
export function useTimerHostsScenario(): TimerHostsScenario {
  let storage: TestStorage | undefined;
  let dir: string | undefined;
  const hosts: SluiceProcess[] = [];
  before(async () => {
    storage = await startTestStorage();
    dir = await mkdtemp(join(tmpdir(), 'sluice-singleton-'));
  });
  after(async () => {
    await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
    await storage?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get storage() {
      if (!storage) throw new Error('the test storage is not started yet (use it inside a test)');
      return storage;
    },
    get runsFile() {
      if (!dir) throw new Error('the scenario is not set up yet (use it inside a test)');
      return join(dir, 'runs.jsonl');
    },
    hosts,
  };
}
