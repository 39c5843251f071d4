/**
 * The Durable Functions engine of the local host, as a host extension: orchestrations, activities and
 * the durable client's management API, persisted in Azure Table storage. See README.md in this folder.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import type { BindingInfo, HostContext, HostExtension } from '../host/types';
import { DurableEngine } from './engine';
import { defaultConcurrency } from './limits';
import { ProblemError } from '../errors/problem';
import { managementAccess, type ManagementAccess } from './access';
import { clientInputData } from './client-data';
import { DurableHttpApi, RPC_PREFIX, WEBHOOK_PREFIX } from './http-api';
import { startRpcListener, type RpcListener } from './rpc-listener';

function isDurablePath(p: string): boolean {
  return p.startsWith(RPC_PREFIX) || p.startsWith(WEBHOOK_PREFIX);
}

function starting(res: ServerResponse, url: URL): true {
  const body = JSON.stringify(
    new ProblemError('unavailable', 'The durable engine is starting; try again shortly.').toDocument(
      url.pathname,
    ),
  );
  res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
  res.end(body);
  return true;
}

/** The setting through which code without a client binding (lib/runs/durable-client.ts) finds the API. */
const RPC_URL_SETTING = 'SLUICE_DURABLE_RPC_URL';

export { clientInputData } from './client-data';
export { DurableEngine } from './engine';

export interface DurableEngineOptions {
  /** Overrides `extensions.durableTask.hubName`. @default host.json hubName, else "TestHubName" */
  hubName?: string;
  /** Overrides `maxConcurrentActivityFunctions`. @default host.json value, else 10 × CPU cores */
  maxConcurrentActivityFunctions?: number;
  /** Overrides `maxConcurrentOrchestratorFunctions`. @default host.json value, else 10 × CPU cores */
  maxConcurrentOrchestratorFunctions?: number;
  /**
   * Longest an orchestrator episode may run, in seconds; 0 runs episodes on the host's event loop.
   * @default setting SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS, else 30 (host.json functionTimeout when shorter)
   */
  orchestratorTimeoutSeconds?: number;
}

/** The setting that bounds one orchestrator episode (episode-pool.ts). */
export const ORCHESTRATOR_TIMEOUT_SETTING = 'SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS';
const DEFAULT_ORCHESTRATOR_TIMEOUT_SECONDS = 30;

/**
 * The episode limit in ms and how to name it: the setting (or option), unless host.json
 * `functionTimeout` is shorter. A bad setting fails the start naming it.
 */
export function episodeLimit(
  hostJson: Record<string, any>,
  option: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { ms: number; source: string } {
  let seconds = option;
  let source = 'orchestratorTimeoutSeconds';
  if (seconds === undefined) {
    const raw = env[ORCHESTRATOR_TIMEOUT_SETTING]?.trim();
    source = ORCHESTRATOR_TIMEOUT_SETTING;
    seconds = raw ? Number(raw) : DEFAULT_ORCHESTRATOR_TIMEOUT_SECONDS;
    if (!Number.isFinite(seconds) || seconds < 0)
      throw new Error(
        `${ORCHESTRATOR_TIMEOUT_SETTING} must be a number of seconds ≥ 0 (0 runs orchestrators on the ` +
          `host's event loop, unbounded); got ${JSON.stringify(raw)}.`,
      );
  }
  if (seconds === 0) return { ms: 0, source };
  const ms = Math.round(seconds * 1000);
  const ft = functionTimeoutMs(hostJson);
  if (ft !== undefined && ft < ms) return { ms: ft, source: 'host.json functionTimeout' };
  return { ms, source };
}

/** host.json `functionTimeout` ("hh:mm:ss") in ms, or undefined when absent or unbounded. */
function functionTimeoutMs(hostJson: Record<string, any>): number | undefined {
  const v = hostJson?.functionTimeout;
  if (typeof v !== 'string') return undefined;
  const m = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(v.trim());
  if (!m) return undefined;
  const ms = ((Number(m[1] ?? 0) * 24 + Number(m[2])) * 3600 + Number(m[3]) * 60 + Number(m[4])) * 1000;
  return ms > 0 ? ms : undefined;
}

/** Whether host.json's function log level lets per-invocation success lines through. */
function logsSuccess(hostJson: Record<string, any>): boolean {
  const levels = (hostJson?.logging?.logLevel ?? {}) as Record<string, unknown>;
  const level = String(levels.Function ?? levels.default ?? 'Information').toLowerCase();
  return ['trace', 'debug', 'information'].includes(level);
}

export interface DurableExtension extends HostExtension {
  /** The running engine (after start): tests and benchmarks wait on instances through it. */
  readonly engine: DurableEngine | undefined;
}

export function createDurableExtension(opts: DurableEngineOptions = {}): DurableExtension {
  let engine: DurableEngine | undefined;
  let api: DurableHttpApi | undefined;
  let hub = opts.hubName ?? 'TestHubName';
  let ctxRef: HostContext | undefined;
  let access: ManagementAccess | undefined;
  let rpc: RpcListener | undefined;
  let publishedRpcUrl: { previous: string | undefined } | undefined;
  const releaseRpc = async (): Promise<void> => {
    // Restore the setting only if it still names this listener (another host may have set it since).
    if (publishedRpcUrl && process.env[RPC_URL_SETTING] === rpc?.rpcBaseUrl) {
      if (publishedRpcUrl.previous === undefined) delete process.env[RPC_URL_SETTING];
      else process.env[RPC_URL_SETTING] = publishedRpcUrl.previous;
    }
    publishedRpcUrl = undefined;
    const closing = rpc?.close();
    rpc = undefined;
    await closing;
  };
  return {
    name: 'durable',
    triggerTypes: ['orchestrationTrigger', 'activityTrigger', 'entityTrigger'],
    get engine() {
      return engine;
    },
    async start(ctx: HostContext) {
      ctxRef = ctx;
      const configured = ctx.hostJson?.extensions?.durableTask?.hubName;
      hub = opts.hubName ?? (typeof configured === 'string' && configured ? configured : 'TestHubName');
      const dflt = defaultConcurrency(ctx.hostJson);
      const limit = episodeLimit(ctx.hostJson, opts.orchestratorTimeoutSeconds);
      const maxOrchestrators = opts.maxConcurrentOrchestratorFunctions ?? dflt.orchestrators;
      engine = new DurableEngine(ctx, {
        hubName: hub,
        maxActivities: opts.maxConcurrentActivityFunctions ?? dflt.activities,
        maxOrchestrators,
        episodeTimeoutMs: limit.ms,
        episodeLimitSource: limit.source,
        // Episodes are CPU work: about one thread per core, at least two (one may be stuck).
        episodeWorkers: Math.min(maxOrchestrators, Math.max(2, Math.min(4, os.cpus().length))),
        logSuccess: logsSuccess(ctx.hostJson),
      });
      access = managementAccess();
      const created = new DurableHttpApi(engine, hub, () => ctx.baseUrl, ctx.log, access);
      rpc = await startRpcListener(
        (req: IncomingMessage, res: ServerResponse, url: URL) =>
          api
            ? api.handle(req, res, url, { trusted: true })
            : Promise.resolve(isDurablePath(url.pathname) && starting(res, url)),
        ctx.log,
      );
      // Code that builds its own client from this setting (not a binding) reaches the keyless listener
      // too, unless the operator pointed it elsewhere.
      if (!process.env[RPC_URL_SETTING]) {
        publishedRpcUrl = { previous: process.env[RPC_URL_SETTING] };
        process.env[RPC_URL_SETTING] = rpc.rpcBaseUrl;
      }
      try {
        await engine.start();
      } catch (e) {
        await releaseRpc();
        throw e;
      }
      // Serve only once every stored instance is loaded: earlier answers could be wrong (404, or a
      // start that overwrites an instance not yet read back).
      api = created;
    },
    async handleHttp(req, res, url) {
      if (api) return api.handle(req, res, url);
      if (!isDurablePath(url.pathname)) return false;
      return starting(res, url);
    },
    inputBindingValue(binding: BindingInfo) {
      if (binding.type !== 'durableClient' && binding.type !== 'orchestrationClient') return undefined;
      return clientInputData(ctxRef?.baseUrl ?? 'http://127.0.0.1:7071', hub, {
        rpcBaseUrl: rpc?.rpcBaseUrl,
        code: access?.linkKey,
      });
    },
    async stop() {
      try {
        await engine?.stop();
      } finally {
        await releaseRpc();
      }
    },
  };
}
