/**
 * Every route of the app, for GET /api/openapi.json.
 *
 * ADDING A FEATURE'S ROUTES: create lib/api/routes/<feature>.ts exporting `routes: RouteSpec[]` (and
 * optionally `schemas: Record<string, JsonSchema>` for shared components), then add ONE import line and
 * ONE array entry below. test/unit/pipelines/openapi-document.test.ts checks the document validates and that
 * every registered HTTP function has an operation, so a route missing here fails a test.
 *
 * runs.ts, data.ts, schedules.ts and triggers.ts were pre-written by PIPELINES from the texts of issues 5
 * and 6 so the document is complete from the start; their features' owners may edit them.
 */
import type { JsonSchema, RouteSpec } from '../catalogue';
import * as pipelines from './pipelines';
import * as snapshots from './snapshots';
import * as documents from './documents';
import * as platform from './platform';
import * as runs from './runs';
import * as data from './data';
import * as schedules from './schedules';
import * as triggers from './triggers';
import * as gc from './gc';
import * as environments from './environments';
import * as compare from './compare';
import * as compute from './compute';

export interface RouteModule {
  routes: RouteSpec[];
  schemas?: Record<string, JsonSchema>;
}

export const ROUTE_MODULES: RouteModule[] = [
  pipelines,
  snapshots,
  documents,
  platform,
  runs,
  data,
  schedules,
  triggers,
  gc,
  environments,
  compare,
  compute,
];
