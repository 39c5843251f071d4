/**
 * HTTP handlers for agent keys and scoped credentials (registered in functions/compute.ts):
 * - `POST/GET /api/agent-keys`, `DELETE /api/agent-keys/{id}`: keys for remote agents (function key);
 * - `POST /api/agent-credentials` `{pool}` and `POST /api/agent-credentials/job` `{runId, jobId}`: what an
 *   agent presenting its key (header `x-sluice-agent-key`) gets. No function key: the agent key is the
 *   only secret a remote agent holds, and it opens nothing but these two routes.
 */
import type { HttpRequest } from '@azure/functions';
import { invalid, notFound, ProblemError } from '../errors/problem';
import { httpHandler, json, readJson } from '../http/handler';
import { checkAgentKey, createAgentKey, listAgentKeys, revokeAgentKey } from './agent-keys';
import {
  AGENT_KEY_HEADER,
  credentialsTtlMs,
  ensureStorageFor,
  jobCredentials,
  poolCredentials,
} from './credentials';
import { readJob } from './jobs';
import { isValidPool } from './targets';

function str(body: unknown, field: string, problems: Array<{ pointer: string; message: string }>): string {
  const v = (body as Record<string, unknown> | undefined)?.[field];
  if (typeof v !== 'string' || v === '') {
    problems.push({ pointer: `/${field}`, message: `${field} is required (a string).` });
    return '';
  }
  return v;
}

export const agentKeysHandler = httpHandler(async (req) => {
  if (req.method === 'GET') {
    const pool = req.query.get('pool') ?? undefined;
    return json(200, { items: await listAgentKeys(pool) });
  }
  const body = await readJson(req);
  const problems: Array<{ pointer: string; message: string }> = [];
  const pool = str(body, 'pool', problems);
  if (pool && !isValidPool(pool))
    problems.push({
      pointer: '/pool',
      message: `"${pool}" is not a pool name: lowercase letters, digits, single hyphens.`,
    });
  const description = (body as { description?: unknown }).description;
  if (description !== undefined && typeof description !== 'string')
    problems.push({ pointer: '/description', message: 'description is a string.' });
  if (problems.length) throw invalid(problems);
  const created = await createAgentKey(pool, description as string | undefined);
  return json(201, created);
});

export const agentKeyHandler = httpHandler(async (req) => {
  const id = req.params.id ?? '';
  if (!(await revokeAgentKey(id)))
    throw notFound(`There is no agent key "${id}"; list them with GET /api/agent-keys.`);
  return { status: 204 };
});

async function agentOf(req: HttpRequest): Promise<{ id: string; pool: string }> {
  const check = await checkAgentKey(req.headers.get(AGENT_KEY_HEADER));
  if (!check.ok) throw new ProblemError('unauthorized', check.why);
  return check;
}

export const agentCredentialsHandler = httpHandler(async (req) => {
  const agent = await agentOf(req);
  const body = await readJson(req, { optional: true });
  const pool = (body as { pool?: unknown } | undefined)?.pool ?? agent.pool;
  if (pool !== agent.pool)
    throw invalid([
      { pointer: '/pool', message: `This agent key serves pool "${agent.pool}", not "${String(pool)}".` },
    ]);
  await ensureStorageFor(agent.pool);
  return json(200, poolCredentials(agent.pool));
});

export const jobCredentialsHandler = httpHandler(async (req) => {
  const agent = await agentOf(req);
  const body = await readJson(req);
  const problems: Array<{ pointer: string; message: string }> = [];
  const runId = str(body, 'runId', problems);
  const jobId = str(body, 'jobId', problems);
  if (problems.length) throw invalid(problems);
  const row = await readJob(runId, jobId);
  // A job of another pool is answered as absent: a key learns nothing about other pools' jobs.
  if (!row || row.pool !== agent.pool)
    throw notFound(`There is no job ${runId}/${jobId} in pool "${agent.pool}".`);
  if (row.state !== 'queued' && row.state !== 'running')
    throw new ProblemError(
      'conflict',
      `Job ${runId}/${jobId} has ended (${row.state}); it needs no credentials.`,
    );
  // The job's own credentials last its timeout and a margin; pool credentials are renewed at half-life.
  return json(200, jobCredentials(row, Math.max(credentialsTtlMs(), row.spec.timeoutMs + 10 * 60_000)));
});
