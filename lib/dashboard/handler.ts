import type { HttpHandler } from '@azure/functions';
import { DASHBOARD_HTML } from './page';

/**
 * Serves the dashboard: one self-contained page that reads the public REST API from the browser.
 * The page itself holds no data and needs no key; API calls carry the key the user enters (kept in
 * the browser's localStorage) when the host requires one.
 */
export const dashboardHandler: HttpHandler = async () => ({
  status: 200,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
  },
  body: DASHBOARD_HTML,
});
