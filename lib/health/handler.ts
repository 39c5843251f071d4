import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { ProblemError } from '../errors/problem';
import { httpHandler, json } from '../http/handler';
import { checkHealth, type DependencyName } from './check';

const LABEL: Record<DependencyName, string> = { storage: 'Azure Storage', cosmos: 'Cosmos DB' };

/**
 * `GET /api/health`: 200 with the report when every dependency answers; otherwise a 503 problem
 * document whose `detail` and `failing` name the dependencies that did not, with the full report attached.
 */
export const healthHandler = httpHandler(async (_req: HttpRequest): Promise<HttpResponseInit> => {
  const report = await checkHealth();
  if (report.status === 'ok') return json(200, report, { 'cache-control': 'no-store' });
  const failing = (Object.keys(report.dependencies) as DependencyName[]).filter(
    (d) => !report.dependencies[d].ok,
  );
  const detail = failing
    .map((d) => `${LABEL[d]} (${d}) is unreachable: ${report.dependencies[d].error ?? 'no answer'}`)
    .join('; ');
  throw new ProblemError('unavailable', `${detail}. Check its settings and that it is running.`, undefined, {
    failing,
    version: report.version,
    dependencies: report.dependencies,
  });
});
