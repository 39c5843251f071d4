import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';

/**
 * Serves the dashboard: the front end in lib/dashboard/web, built by `npm run build` (Vite) into
 * dist/dashboard-web. `assets/*` are content-hashed files, cached for good; every other path is the
 * app's index.html (routes are hash routes). The files hold no data and need no key; the app's API calls
 * carry the key the user enters (kept in localStorage) when the host requires one.
 */

/** dist/lib/dashboard/handler.js → dist/dashboard-web */
export const DASHBOARD_DIR = path.resolve(__dirname, '..', '..', 'dashboard-web');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const CSP =
  "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

/** The file a dashboard path serves, or undefined for the index; never a path outside the assets. */
export function assetFile(requestPath: string): string | undefined {
  const m = /^assets\/([A-Za-z0-9._-]+)$/.exec(requestPath);
  return m && !m[1]!.startsWith('.') ? path.join(DASHBOARD_DIR, 'assets', m[1]!) : undefined;
}

export const dashboardHandler: HttpHandler = async (req): Promise<HttpResponseInit> => {
  const file = assetFile(req.params.path ?? '');
  if (file) {
    try {
      return {
        status: 200,
        headers: {
          'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'cache-control': 'public, max-age=31536000, immutable',
        },
        body: await readFile(file),
      };
    } catch {
      return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'No such dashboard asset.' };
    }
  }
  let html: string;
  try {
    html = await readFile(path.join(DASHBOARD_DIR, 'index.html'), 'utf8');
  } catch {
    return {
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'The dashboard is not built: run `npm run build` (it builds lib/dashboard/web into dist/dashboard-web).',
    };
  }
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
    },
    body: html,
  };
};
