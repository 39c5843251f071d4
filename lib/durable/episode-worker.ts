/**
 * A worker thread that runs orchestrator episodes (see episode-pool.ts for why). It loads the app's
 * entry files itself, through the same `@azure/functions-core` shim the host uses, so the app's
 * `durable-functions` registers its orchestrators here too, and invokes them with the host's own
 * Invoker (hooks, invocation context, log lines) exactly as the main thread would.
 *
 * Each instance's replay history is kept here between episodes, so a message carries only the new
 * events (the main thread tracks which worker holds which instance, and sends everything when that
 * changes). One episode at a time: the main thread times each one and stops this thread if it runs
 * past the limit, which JS code stuck in a synchronous loop cannot prevent.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { readAppPackage } from '../host/app-files';
import { Registry, captureRegistrations, getProgrammingModel, installCoreApi } from '../host/core-api';
import { Invoker, runAppHooks, type FunctionEntry } from '../host/invoker';
import type { HostLogger } from '../host/types';

export interface WorkerInit {
  appDir: string;
  /** Trigger-value fields every episode carries (replay schema, timer durations). */
  bindingConstants: Record<string, unknown>;
  /** Whether per-invocation success lines are logged (host.json logging level). */
  logSuccess: boolean;
}

/** main → worker */
export type ToWorker =
  | {
      kind: 'episode';
      seq: number;
      id: string;
      name: string;
      /** How many replay events the worker holds already for `id` (0: start afresh). */
      base: number;
      events: any[];
      /** Sent with base 0 only. */
      input?: unknown;
      parentInstanceId?: string;
      isReplaying: boolean;
    }
  /** An entity batch: invoke the entity function with this trigger value. */
  | { kind: 'invoke'; seq: number; name: string; value: unknown }
  | { kind: 'forget'; ids: string[] }
  | { kind: 'stop' };

/** worker → main */
export type FromWorker =
  | { kind: 'ready'; orchestrators: string[] }
  | { kind: 'loadFailed'; message: string }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | {
      kind: 'result';
      seq: number;
      state?: unknown;
      error?: string;
      resync?: boolean;
      /**
       * Set when `state.actions` holds only the top-level actions from this index on: the ones before
       * are those of the last result (the main thread keeps them), which the code produced again.
       */
      actionsFrom?: number;
    }
  | { kind: 'stopped' };

interface Cached {
  events: any[];
  input: unknown;
  parentInstanceId?: string;
  /** Events before this index are from earlier episodes (IsPlayed). */
  played: number;
  /** An episode has run with `input`: the library's Timestamp walk has converted it already. */
  walked?: boolean;
  /** What the planner compares (type, name) of each top-level action sent so far. */
  sigs?: string[];
}

/** The action facts the planner's nondeterminism check reads, for a top-level entry and its children. */
function actionSig(a: any): string {
  if (!a || typeof a !== 'object') return '';
  const own = `${a.actionType}|${a.functionName ?? a.externalEventName ?? ''}`;
  return Array.isArray(a.compoundActions) ? `${own}[${a.compoundActions.map(actionSig).join(',')}]` : own;
}

/**
 * The action list grows with the execution, and copying all of it to the main thread after every episode
 * would make a long sequence quadratic in copies. Send only what changed: the top-level entries after
 * the longest prefix that matches what was sent before (on a replay of unchanged code, all of them).
 */
function trimActions(c: Cached, state: any): number | undefined {
  const top = state?.actions;
  if (!Array.isArray(top) || top.length !== 1 || !Array.isArray(top[0])) {
    c.sigs = undefined;
    return undefined;
  }
  const list: any[] = top[0];
  const sigs = list.map(actionSig);
  const prev = c.sigs ?? [];
  let k = 0;
  while (k < prev.length && k < sigs.length && prev[k] === sigs[k]) k++;
  c.sigs = sigs;
  state.actions = [list.slice(k)];
  return k;
}

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: FromWorker): void => port.postMessage(m);

const log: HostLogger = {
  info: (message) => {
    if (init.logSuccess || !message.startsWith('Executed ')) post({ kind: 'log', level: 'info', message });
  },
  warn: (message) => post({ kind: 'log', level: 'warn', message }),
  error: (message) => post({ kind: 'log', level: 'error', message }),
};

/** Where durable-functions hides the OrchestratorState in the error it throws. */
const MARKER = '$OutOfProcData$:';

/**
 * durable-functions throws `OrchestrationFailureError` with the message `"false\n\n$OutOfProcData$:{…}"`
 * (its first line is a boolean, not the error: a library bug), so a log line would read
 * `Failed: false`. Rethrow the orchestrator's own error, keeping the state for the engine.
 */
class OrchestratorFailed extends Error {
  constructor(
    message: string,
    readonly state: unknown,
  ) {
    super(message);
  }
}

function wrapOrchestrator(
  name: string,
  cb: (...args: unknown[]) => unknown,
): (...args: unknown[]) => unknown {
  return async (...args: unknown[]) => {
    try {
      return await cb(...args);
    } catch (err: any) {
      const message = String(err?.message ?? err);
      const i = message.indexOf(MARKER);
      if (i < 0) throw err;
      let state: any;
      try {
        state = JSON.parse(message.slice(i + MARKER.length));
      } catch {
        throw err;
      }
      throw new OrchestratorFailed(
        `Orchestrator function '${name}' failed: ${state?.error ?? message.slice(0, i).trim()}`,
        state,
      );
    }
  };
}

async function load(): Promise<Map<string, FunctionEntry>> {
  installCoreApi();
  const registry = new Registry();
  registry.systemLog = (level, message) => (level === 'warning' ? log.warn(message) : log.error(message));
  const pkg = await readAppPackage(init.appDir);
  const requireApp = createRequire(__filename);
  await captureRegistrations(registry, async () => {
    for (const f of pkg.entryFiles) {
      if (pkg.esm || f.endsWith('.mjs')) await import(pathToFileURL(f).href);
      else requireApp(f);
    }
  });
  const pm = getProgrammingModel();
  if (!pm) throw new Error('the app registered no programming model (@azure/functions v4?)');
  const invoker = new Invoker(
    registry,
    () => pm,
    log,
    async () => {},
  );
  const entries = new Map<string, FunctionEntry>();
  for (const [id, r] of registry.functions) {
    const found = Object.entries(r.metadata.bindings).find(([, b]) => /trigger$/i.test(b.type));
    const type = found?.[1].type.toLowerCase();
    if (!found || (type !== 'orchestrationtrigger' && type !== 'entitytrigger')) continue;
    const name = r.metadata.name ?? id;
    if (type === 'entitytrigger') {
      entities.set(name, {
        fn: { name, bindings: r.metadata.bindings, triggerName: found[0], trigger: found[1] },
        registration: r,
        triggerType: type,
        isHttp: false,
        httpReturn: false,
        extensionInputs: [],
        hostInputs: [],
        outputBindings: [],
      });
      continue;
    }
    entries.set(name, {
      fn: {
        name,
        bindings: r.metadata.bindings,
        triggerName: found[0],
        trigger: found[1],
        retryOptions: r.metadata.retryOptions,
      },
      registration: { metadata: r.metadata, callback: wrapOrchestrator(name, r.callback) },
      triggerType: 'orchestrationtrigger',
      isHttp: false,
      httpReturn: false,
      extensionInputs: [],
      hostInputs: [],
      outputBindings: [],
    });
  }
  // Each Functions worker process runs the app's start hooks; so does each of these threads.
  await runAppHooks(registry, 'appStart', invoker.appHookData, init.appDir);
  invokerRef = invoker;
  registryRef = registry;
  return entries;
}

let invokerRef: Invoker | undefined;
/** Entity functions by name (entity batches run here too). */
const entities = new Map<string, FunctionEntry>();
let registryRef: Registry | undefined;
const cache = new Map<string, Cached>();

async function episode(
  entries: Map<string, FunctionEntry>,
  m: Extract<ToWorker, { kind: 'episode' }>,
): Promise<void> {
  let c = m.base === 0 ? undefined : cache.get(m.id);
  if (m.base === 0) {
    c = { events: [], input: m.input, parentInstanceId: m.parentInstanceId, played: 0 };
    cache.set(m.id, c);
  } else if (!c || c.events.length !== m.base) {
    cache.delete(m.id);
    post({ kind: 'result', seq: m.seq, resync: true });
    return;
  }
  for (let i = c.played; i < c.events.length; i++) c.events[i].IsPlayed = true;
  c.played = c.events.length;
  for (const ev of m.events) c.events.push(ev);
  const entry = entries.get(m.name);
  if (!entry) {
    post({
      kind: 'result',
      seq: m.seq,
      error: `the orchestrator function '${m.name}' is not registered in the episode worker`,
    });
    return;
  }
  const binding: Record<string, unknown> = {
    instanceId: m.id,
    isReplaying: m.isReplaying,
    parentInstanceId: c.parentInstanceId,
    ...init.bindingConstants,
  };
  // Own but not enumerable: see episode-runner.ts (the library's Timestamp walk skips it).
  Object.defineProperty(binding, 'history', { value: c.events, enumerable: false });
  // The input is kept here between episodes, and the walk turns its `Timestamp` strings into Dates in
  // place: after the first episode it has nothing left to do, and skipping it spares a pass over the
  // whole input (a large run's graph and plan) per episode.
  if (c.walked)
    Object.defineProperty(binding, 'input', { value: c.input, enumerable: false, writable: true });
  else binding.input = c.input;
  c.walked = true;
  let state: unknown;
  let error: string | undefined;
  try {
    state = (await invokerRef!.invoke(entry, { value: binding })).returnValue;
  } catch (err: any) {
    if (err instanceof OrchestratorFailed) {
      state = err.state;
      error = (err.state as any)?.error ?? err.message;
    } else error = String(err?.message ?? err);
  }
  const actionsFrom = error === undefined ? trimActions(c, state) : ((c.sigs = undefined), undefined);
  try {
    post({ kind: 'result', seq: m.seq, state, error, actionsFrom });
  } catch {
    // A value the structured clone cannot carry (a function in the output): send its JSON form,
    // which is what the engine stores anyway.
    post({
      kind: 'result',
      seq: m.seq,
      state: JSON.parse(JSON.stringify(state ?? null)),
      error,
      actionsFrom,
    });
  }
}

async function invokeEntity(m: Extract<ToWorker, { kind: 'invoke' }>): Promise<void> {
  const entry = entities.get(m.name);
  if (!entry) {
    post({
      kind: 'result',
      seq: m.seq,
      error: `the entity function '${m.name}' is not registered in the worker`,
    });
    return;
  }
  try {
    const state = (await invokerRef!.invoke(entry, { value: m.value })).returnValue;
    post({ kind: 'result', seq: m.seq, state: JSON.parse(JSON.stringify(state ?? null)) });
  } catch (err: any) {
    post({ kind: 'result', seq: m.seq, error: String(err?.message ?? err) });
  }
}

async function main(): Promise<void> {
  let entries: Map<string, FunctionEntry>;
  try {
    entries = await load();
  } catch (e: any) {
    post({ kind: 'loadFailed', message: String(e?.stack ?? e) });
    return;
  }
  post({ kind: 'ready', orchestrators: [...entries.keys()] });
  let chain = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'forget') {
      for (const id of m.ids) cache.delete(id);
      return;
    }
    if (m.kind === 'stop') {
      chain = chain.then(async () => {
        try {
          if (registryRef && invokerRef)
            await runAppHooks(registryRef, 'appTerminate', invokerRef.appHookData, init.appDir);
        } finally {
          post({ kind: 'stopped' });
          port.close();
        }
      });
      return;
    }
    const job = m.kind === 'invoke' ? () => invokeEntity(m) : () => episode(entries, m);
    chain = chain.then(job).catch((e) => log.error(String(e?.stack ?? e)));
  });
}

void main();
