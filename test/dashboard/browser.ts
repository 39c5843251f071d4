/**
 * Chromium for the dashboard tests: Debian's `chromium` (test/setup/chromium.sh installs it) driven by
 * playwright-core, which downloads no browser of its own. Every /api request the page makes is recorded,
 * so a test can check it called only documented routes and did not refetch what it had.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export function chromiumPath(): string {
  for (const p of [process.env.SLUICE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'])
    if (p && fs.existsSync(p)) return p;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'Chromium is not installed: run `bash test/setup/chromium.sh` (apt-get install chromium).',
    );
  }
}

export interface DashboardBrowser {
  browser: Browser;
  page: Page;
  /** Every `METHOD /api/...` path (without query) the page requested, in order. */
  requests: string[];
  /** Errors the page threw or logged. */
  errors: string[];
  close(): Promise<void>;
}

export async function openDashboard(): Promise<DashboardBrowser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/') && !u.pathname.startsWith('/api/dashboard'))
      requests.push(`${r.method()} ${u.pathname}${u.search}`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return { browser, page, requests, errors, close: () => browser.close() };
}

/** Where screenshots go: lib/dashboard/screenshots with SLUICE_SCREENSHOTS=1 (for the README), else a temp dir. */
export function screenshotPath(root: string, tmp: string, name: string): string {
  const dir =
    process.env.SLUICE_SCREENSHOTS === '1' ? path.join(root, 'lib', 'dashboard', 'screenshots') : tmp;
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}
