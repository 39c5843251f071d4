/**
 * The Durable Functions management API (reference §5): what durable-functions' DurableClient calls under
 * `rpcBaseUrl` (`/durabletask/…`) and what `createCheckStatusResponse` links point at
 * (`/runtime/webhooks/durabletask/…`). Same handlers on both prefixes; `taskHub` and `connection` query
 * parameters are accepted and ignored. On the host's port both prefixes need a key when
 * `SLUICE_MASTER_KEY` is set (`access.ts`), as the extension's public webhook does on Azure; the
 * engine's loopback rpc listener (`rpc-listener.ts`) needs none, as the extension's does. Errors are
 * RFC 7807 problem documents.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProblemError, invalid, notFound } from '../errors/problem';
import type { ManagementAccess } from './access';
import { jsonBody, send, sendProblem, toProblem } from './api-io';
import { managementUrls } from './client-data';
import { routeEntities } from './entity-api';
import type { DurableEngine } from './engine';
import { DurableError } from './errors';
import type { Instance } from './instance';
import { RUNTIME_STATUSES, isTerminal, parseJsonText, statusTime, type RuntimeStatus } from './history';
import { historyForClient } from './history-view';

export const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask/';
export const RPC_PREFIX = '/durabletask/';
/** Instances per page of a status query unless `top` says otherwise. */
const DEFAULT_PAGE = 100;

export class DurableHttpApi {
  constructor(
    private readonly engine: DurableEngine,
    private readonly hub: string,
    private readonly baseUrl: () => string,
    private readonly log: { error(m: string): void },
    /** Keys the host's port requires; undefined when none is configured (local development). */
    private readonly access?: ManagementAccess,
  ) {}

  /**
   * Serves a management request; false when the path is not the API's. `trusted` requests (the
   * engine's loopback rpc listener) skip the key check.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    opts: { trusted?: boolean } = {},
  ): Promise<boolean> {
    const p = url.pathname;
    const prefix = p.startsWith(WEBHOOK_PREFIX)
      ? WEBHOOK_PREFIX
      : p.startsWith(RPC_PREFIX)
        ? RPC_PREFIX
        : undefined;
    if (!prefix) return false;
    if (!opts.trusted && this.access && !this.access.admits(req, url)) {
      sendProblem(res, this.access.refusal(), p);
      return true;
    }
    let segments: string[];
    try {
      segments = p
        .slice(prefix.length)
        .split('/')
        .map((s) => decodeURIComponent(s));
    } catch {
      sendProblem(res, invalid([{ pointer: '', message: 'The path is not valid percent-encoding.' }]), p);
      return true;
    }
    try {
      await this.route(req.method ?? 'GET', segments, req, res, url);
    } catch (err) {
      const problem = toProblem(err);
      if (problem) sendProblem(res, problem, p);
      else if (err instanceof DurableError && err.kind === 'gone') send(res, 410, { message: err.message });
      else {
        this.log.error(
          `durable: management API error on ${req.method} ${p}: ${(err as Error)?.stack ?? err}`,
        );
        sendProblem(
          res,
          new ProblemError('internal', 'Unexpected error in the durable management API; see the host log.'),
          p,
        );
      }
    }
    return true;
  }

  private methodNotAllowed(allowed: string): never {
    throw new ProblemError('method-not-allowed', `Use ${allowed} on this durable management endpoint.`);
  }

  private async route(
    method: string,
    seg: string[],
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    const [head, a, b, c] = seg;
    if (head === 'orchestrators' && a && seg.length <= 3) {
      if (method !== 'POST') this.methodNotAllowed('POST');
      return this.start(a, b || undefined, req, res, url);
    }
    if (head === 'instances') {
      if (!a) {
        if (method === 'GET') return this.list(url, req, res);
        if (method === 'DELETE') return this.purgeBy(url, res);
        this.methodNotAllowed('GET or DELETE');
      }
      if (!b) {
        if (method === 'GET') return this.status(a, url, res);
        if (method === 'DELETE') return this.purge(a, res);
        this.methodNotAllowed('GET or DELETE');
      }
      if (method !== 'POST') this.methodNotAllowed('POST');
      const reason = url.searchParams.get('reason') ?? '';
      switch (b) {
        case 'raiseEvent': {
          if (!c)
            throw invalid([
              {
                pointer: '',
                message: 'The event name is missing: POST instances/{id}/raiseEvent/{eventName}.',
              },
            ]);
          const body = await jsonBody(req);
          await this.engine.raiseEvent(a, c, body);
          return send(res, 202, undefined);
        }
        case 'terminate':
        case 'suspend':
        case 'resume':
          await this.engine.control(a, b, reason);
          return send(res, 202, undefined);
        case 'rewind':
        case 'restart':
          throw new ProblemError(
            'not-implemented',
            `${b} is not supported by the local host (Sluice): start a new instance instead.`,
          );
      }
    }
    if (head === 'entities' && seg.length <= 3) {
      const helpers = { send, jsonBody, methodNotAllowed: (m: string) => this.methodNotAllowed(m) };
      return routeEntities(this.engine.entities, helpers, method, a || undefined, b, req, res, url);
    }
    throw notFound(`No durable management endpoint at '${seg.join('/')}'.`);
  }

  private async start(
    name: string,
    id: string | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    if (id !== undefined && !/^[^\u0000-\u001f]{1,256}$/.test(id)) {
      throw invalid([
        {
          pointer: '/instanceId',
          message: 'An instance ID must be 1–256 characters without control characters.',
        },
      ]);
    }
    const input = await jsonBody(req);
    const version = url.searchParams.get('version') ?? undefined;
    const instanceId = await this.engine.startNew(name, id, input, version);
    const payload = this.managementPayload(instanceId);
    send(res, 202, payload, { location: payload.statusQueryGetUri!, 'retry-after': '10' });
  }

  managementPayload(id: string): Record<string, string> {
    const base = `${this.baseUrl().replace(/\/+$/, '')}/runtime/webhooks/durabletask`;
    const code = this.access ? `&code=${encodeURIComponent(this.access.linkKey)}` : '';
    const urls = managementUrls(
      base,
      encodeURIComponent(id),
      `taskHub=${encodeURIComponent(this.hub)}&connection=Storage${code}`,
    );
    return { ...urls, id };
  }

  private async status(id: string, url: URL, res: ServerResponse): Promise<void> {
    const inst = this.engine.instances.get(id);
    if (!inst) throw notFound(`No instance with ID '${id}' found.`);
    const q = url.searchParams;
    const body = this.statusPayload(inst, q.get('showInput') !== 'false');
    if (q.get('showHistory') === 'true') {
      const events = await this.engine.historyOf(inst);
      const h = historyForClient(events, q.get('showHistoryOutput') === 'true');
      body.historyEvents = h;
      body.history = h;
    }
    const status = inst.committed.status as RuntimeStatus;
    if (isTerminal(status)) send(res, 200, body);
    else
      send(res, 202, body, { location: this.managementPayload(id).statusQueryGetUri!, 'retry-after': '5' });
  }

  statusPayload(inst: Instance, showInput: boolean): Record<string, unknown> {
    const r = inst.committed;
    return {
      name: r.name,
      instanceId: r.id,
      runtimeStatus: r.status,
      input: showInput ? (parseJsonText(r.input) ?? null) : null,
      customStatus: parseJsonText(r.customStatus) ?? null,
      output: parseJsonText(r.output) ?? null,
      createdTime: statusTime(r.createdMs),
      lastUpdatedTime: statusTime(r.updatedMs),
    };
  }

  private filter(url: URL): {
    match: (i: Instance) => boolean;
    problems: Array<{ pointer: string; message: string }>;
  } {
    const q = url.searchParams;
    const problems: Array<{ pointer: string; message: string }> = [];
    const time = (key: string): number | undefined => {
      const v = q.get(key);
      if (v === null || v === '') return undefined;
      const t = Date.parse(v);
      if (Number.isNaN(t))
        problems.push({ pointer: `/${key}`, message: `'${v}' is not an ISO 8601 date-time.` });
      return t;
    };
    const from = time('createdTimeFrom');
    const to = time('createdTimeTo');
    const statuses = (q.get('runtimeStatus') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const s of statuses) {
      if (!RUNTIME_STATUSES.includes(s as RuntimeStatus)) {
        problems.push({
          pointer: '/runtimeStatus',
          message: `'${s}' is not a runtime status (${RUNTIME_STATUSES.join(', ')}).`,
        });
      }
    }
    const prefix = q.get('instanceIdPrefix') ?? '';
    const match = (i: Instance): boolean =>
      (from === undefined ||
        Math.floor(i.committed.createdMs / 1000) * 1000 >= Math.floor(from / 1000) * 1000) &&
      (to === undefined || i.committed.createdMs <= to) &&
      (statuses.length === 0 || statuses.includes(i.committed.status)) &&
      i.committed.id.startsWith(prefix);
    return { match, problems };
  }

  private async list(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { match, problems } = this.filter(url);
    const topText = url.searchParams.get('top');
    const top = topText === null ? DEFAULT_PAGE : Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > 1000)
      problems.push({ pointer: '/top', message: 'top must be an integer from 1 to 1000.' });
    // Keyset paging on (createdTime, instanceId): instances started or purged between pages neither
    // repeat nor shift the rest.
    const token = req.headers['x-ms-continuation-token'];
    let after: { ms: number; id: string } | undefined;
    if (typeof token === 'string' && token !== '') {
      const text = Buffer.from(token, 'base64url').toString('utf8');
      const sep = text.indexOf(':');
      const ms = Number(text.slice(0, sep));
      if (sep < 0 || !Number.isFinite(ms)) {
        problems.push({
          pointer: '/x-ms-continuation-token',
          message: 'The continuation token is not one this host issued; start the query again without it.',
        });
      } else after = { ms, id: text.slice(sep + 1) };
    }
    if (problems.length) throw invalid(problems);
    const key = (i: Instance): [number, string] => [i.committed.createdMs, i.committed.id];
    const cmp = (a: [number, string], b: [number, string]): number =>
      a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    const all = [...this.engine.instances.values()]
      .filter((i) => match(i) && (!after || cmp(key(i), [after.ms, after.id]) > 0))
      .sort((x, y) => cmp(key(x), key(y)));
    const showInput = url.searchParams.get('showInput') !== 'false';
    const slice = all.slice(0, top);
    const page = slice.map((i) => this.statusPayload(i, showInput));
    const headers: Record<string, string> = {};
    if (all.length > top) {
      const [ms, id] = key(slice[slice.length - 1]!);
      headers['x-ms-continuation-token'] = Buffer.from(`${ms}:${id}`).toString('base64url');
    }
    send(res, 200, page, headers);
  }

  private async purge(id: string, res: ServerResponse): Promise<void> {
    const deleted = await this.engine.purge(id);
    if (!deleted) throw notFound(`No instance with ID '${id}' found.`);
    send(res, 200, { instancesDeleted: 1 });
  }

  private async purgeBy(url: URL, res: ServerResponse): Promise<void> {
    const { match, problems } = this.filter(url);
    if (!url.searchParams.get('createdTimeFrom')) {
      problems.push({
        pointer: '/createdTimeFrom',
        message: 'createdTimeFrom is required to purge by filter.',
      });
    }
    if (problems.length) throw invalid(problems);
    const victims = [...this.engine.instances.values()].filter(
      (i) => match(i) && isTerminal(i.committed.status as RuntimeStatus),
    );
    let n = 0;
    for (const v of victims) if (await this.engine.purge(v.rec.id)) n++;
    if (n === 0) throw notFound('No finished instances match the filter.');
    send(res, 200, { instancesDeleted: n });
  }
}
