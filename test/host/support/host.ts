/** Starting the basic fixture app in this process, and small helpers for asserting on it. */
import { startHost, type HostOptions, type RunningHost } from '../../../lib/host/index';
import type { HostLogger } from '../../../lib/host/types';
import { BASIC_APP, type TestStorage } from './storage';

export interface CapturedLog {
  lines: string[];
  logger: HostLogger;
}

/** Keeps host log lines for assertions; echoes them when SLUICE_TEST_VERBOSE=1. */
export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const push = (level: string) => (m: string) => {
    lines.push(`${level} ${m}`);
    if (process.env.SLUICE_TEST_VERBOSE === '1') process.stderr.write(`${level} ${m}\n`);
  };
  return { lines, logger: { info: push('INFO'), warn: push('WARN'), error: push('ERROR') } };
}

export async function startBasicHost(
  storage: TestStorage,
  log: CapturedLog,
  extra: Partial<HostOptions> = {},
): Promise<RunningHost> {
  return startHost({
    appDir: BASIC_APP,
    port: 0,
    embeddedStack: false,
    logger: log.logger,
    shutdownTimeoutMs: 10_000,
    ...extra,
    env: { AzureWebJobsStorage: storage.connectionString, ...(extra.env ?? {}) },
  });
}

export interface FixtureEvent {
  kind: string;
  at: string;
  [k: string]: unknown;
}

export async function events(host: RunningHost, kind?: string): Promise<FixtureEvent[]> {
  const res = await fetch(`${host.baseUrl}/api/_events${kind ? `?kind=${encodeURIComponent(kind)}` : ''}`);
  if (res.status !== 200) throw new Error(`GET /api/_events answered ${res.status}`);
  return (await res.json()) as FixtureEvent[];
}

/** Polls `probe` until it returns a value other than undefined (bounded; not a timing assertion). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
