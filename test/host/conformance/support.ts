/** The conformance fixture apps (test/fixtures/apps/conformance, pinned-4.3) and their host. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHost, type HostOptions, type RunningHost } from '../../../lib/host/index';
import type { CapturedLog } from '../support/host';
import { REPO, type TestStorage } from '../support/storage';

export const CONFORMANCE_APP = join(REPO, 'test', 'fixtures', 'apps', 'conformance');
export const PINNED_43_APP = join(REPO, 'test', 'fixtures', 'apps', 'pinned-4.3');

export function startConformanceHost(
  storage: TestStorage,
  log: CapturedLog,
  extra: Partial<HostOptions> = {},
): Promise<RunningHost> {
  return startHost({
    appDir: CONFORMANCE_APP,
    port: 0,
    embeddedStack: false,
    logger: log.logger,
    shutdownTimeoutMs: 10_000,
    ...extra,
    env: { AzureWebJobsStorage: storage.connectionString, ...(extra.env ?? {}) },
  });
}

export interface AppEvent {
  kind: string;
  [k: string]: unknown;
}

export async function appEvents(host: RunningHost, kind: string): Promise<AppEvent[]> {
  const res = await fetch(`${host.baseUrl}/api/events?kind=${encodeURIComponent(kind)}`);
  if (res.status !== 200) throw new Error(`GET /api/events answered ${res.status}`);
  return (await res.json()) as AppEvent[];
}

/**
 * Installs the version the fixture pins (its package.json dependencies) into the fixture's own,
 * git-ignored node_modules from the npm registry, unless it is already there.
 */
export function ensurePinnedDependencies(appDir: string): void {
  const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const missing = Object.entries(pkg.dependencies).filter(([name, version]) => {
    const installed = join(appDir, 'node_modules', ...name.split('/'), 'package.json');
    return (
      !existsSync(installed) ||
      (JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version !== version
    );
  });
  if (missing.length === 0) return;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // No shell: the arguments are passed as they are.
  execFileSync(
    npm,
    [
      'install',
      '--prefix',
      appDir,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      ...missing.map(([n, v]) => `${n}@${v}`),
    ],
    { stdio: 'pipe', timeout: 180_000 },
  );
}
