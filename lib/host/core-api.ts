/**
 * `@azure/functions-core`, provided the way the Azure Functions Node worker provides it: by proxying
 * `Module.prototype.require`, so the app's unchanged `@azure/functions` finds a runtime and hands over
 * its registrations, hooks and programming model instead of entering "test mode".
 *
 * The shim is one object per process. `@azure/functions` caches it on first use and sets the
 * programming model only once per process, so a second host in the same process (tests restart hosts)
 * must reuse both: the active `Registry` is swapped instead.
 */
import Module from 'node:module';
import type { BindingInfo } from './types';

export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';
type HookCallback = (context: any) => unknown;

export interface FunctionMetadata {
  name: string;
  functionId?: string;
  bindings: Record<string, BindingInfo>;
  retryOptions?: unknown;
}

export interface Registration {
  metadata: FunctionMetadata;
  callback: (...args: unknown[]) => unknown;
}

/** The subset of `@azure/functions`' ProgrammingModel/InvocationModel the host drives. */
export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): InvocationModel;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: any; inputs: unknown[] }>;
  invokeFunction(context: any, inputs: unknown[], handler: (...args: unknown[]) => unknown): Promise<unknown>;
  getResponse(context: any, result: unknown): Promise<{ returnValue?: unknown; outputData?: unknown[] }>;
}

export interface CoreInvocationContext {
  invocationId: string;
  request: {
    invocationId: string;
    functionId: string;
    inputData: Array<{ name: string; data: unknown }>;
    triggerMetadata: Record<string, unknown>;
    retryContext?: unknown;
  };
  metadata: FunctionMetadata;
  state?: 'preInvocationHooks' | 'invocation' | 'postInvocationHooks';
  log(level: string, category: string, message: string): void;
}

class Disposable {
  static from(...items: Array<{ dispose(): unknown }>): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  #callback: (() => unknown) | undefined;
  constructor(callback: () => unknown) {
    this.#callback = callback;
  }
  dispose(): void {
    const cb = this.#callback;
    this.#callback = undefined;
    cb?.();
  }
}

/** What one app load registered. */
export class Registry {
  readonly functions = new Map<string, Registration>();
  readonly hooks: Record<HookName, HookCallback[]> = {
    appStart: [],
    appTerminate: [],
    preInvocation: [],
    postInvocation: [],
    log: [],
  };
  /** Set when the app called `app.setup({ enableHttpStream: true })`. */
  httpStreamRequested = false;
  /** Receives system log lines from the library (warnings about the app, mostly). */
  systemLog: (level: string, message: string) => void = () => {};
}

interface Shim {
  registry: Registry | undefined;
  /** The last loaded registry: library system logs after load still reach its host. */
  logRegistry: Registry | undefined;
  programmingModel: ProgrammingModel | undefined;
  api: Record<string, unknown>;
}

const KEY = Symbol.for('sluice.host.functionsCore');

function shim(): Shim {
  const g = globalThis as unknown as Record<symbol, Shim | undefined>;
  const s = g[KEY];
  if (s) return s;
  const state: Shim = { registry: undefined, logRegistry: undefined, programmingModel: undefined, api: {} };
  const active = (): Registry => {
    if (!state.registry)
      throw new Error(
        'Functions can only be registered while the Sluice host loads the app (package.json "main").',
      );
    return state.registry;
  };
  state.api = {
    version: 'sluice-local',
    get hostVersion() {
      return '4.x-sluice';
    },
    Disposable,
    registerFunction(metadata: FunctionMetadata, callback: Registration['callback']) {
      const reg = active();
      const id = metadata.functionId ?? metadata.name;
      if (reg.functions.has(id)) throw new Error(`A function with id "${id}" has already been registered.`);
      reg.functions.set(id, { metadata, callback });
      return new Disposable(() => reg.functions.delete(id));
    },
    registerHook(name: string, callback: HookCallback) {
      const reg = active();
      const list = reg.hooks[name as HookName];
      if (!list) {
        // The worker flags unknown hook names this way; @azure/functions relies on it.
        const err = new RangeError(`Unrecognized hook "${name}"`) as RangeError & {
          isAzureFunctionsSystemError?: boolean;
        };
        err.isAzureFunctionsSystemError = true;
        throw err;
      }
      list.push(callback);
      return new Disposable(() => list.splice(list.indexOf(callback) >>> 0, 1));
    },
    setProgrammingModel(pm: ProgrammingModel) {
      state.programmingModel = pm;
    },
    getProgrammingModel() {
      return state.programmingModel;
    },
    log(level: string, category: string, message: string) {
      const reg = state.registry ?? state.logRegistry;
      if (!reg) return;
      // @azure/functions announces `app.setup({ enableHttpStream: true })` only through a log line:
      // this one in recent versions, `Setup options: {…}` in older ones (4.3 …).
      if (category === 'system' && message === 'HTTP streaming enabled.') reg.httpStreamRequested = true;
      if (
        category === 'system' &&
        message.startsWith('Setup options: ') &&
        /"enableHttpStream":true/.test(message)
      )
        reg.httpStreamRequested = true;
      if (category === 'system' && (level === 'warning' || level === 'error' || level === 'critical'))
        reg.systemLog(level, message);
    },
  };
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, args: unknown[]) {
      if (args[0] === '@azure/functions-core') return state.api;
      return Reflect.apply(target, thisArg, args);
    },
  });
  g[KEY] = state;
  return state;
}

/** Installs the shim (idempotent). Must run before the app's entry files load. */
export function installCoreApi(): void {
  shim();
}

/** Routes registrations to `registry` while `load` runs. Loads are serialized by the caller. */
export async function captureRegistrations(registry: Registry, load: () => Promise<void>): Promise<void> {
  const s = shim();
  s.registry = registry;
  s.logRegistry = registry;
  try {
    await load();
  } finally {
    // Keep routing library system logs for this registry; registrations after load are refused.
    s.registry = undefined;
  }
}

export function getProgrammingModel(): ProgrammingModel | undefined {
  return shim().programmingModel;
}
