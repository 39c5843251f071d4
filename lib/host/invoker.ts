/**
 * Invoking registered functions the way the Node worker does (nodejs-worker InvocationHandler):
 * the app's ProgrammingModel builds the InvocationContext and arguments, hooks run around the call,
 * and the invocation model turns outputs into typed data. One fresh InvocationContext per call.
 *
 * Kept lean because the durable engine calls it thousands of times per second: no sync I/O, no JSON
 * round trip for trigger values (they are handed over as the plain values `fromRpcTypedData` would
 * have produced), `getResponse` only when there are output bindings to write.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { getClock } from './clock';
import type { CoreInvocationContext, ProgrammingModel, Registration, Registry } from './core-api';
import { bindingData } from './blobs';
import type { BindingInfo, HostExtension, HostLogger, InvokeResult, RegisteredFunction } from './types';

/** A function plus what the host precomputes once for fast invocation. */
export interface FunctionEntry {
  fn: RegisteredFunction;
  registration: Registration;
  /** Lower-cased trigger type. */
  triggerType: string;
  isHttp: boolean;
  /** Input bindings an extension fills (durableClient …): binding name → extension. */
  extensionInputs: Array<{ name: string; binding: BindingInfo; extension: HostExtension }>;
  /** Input bindings the host fills itself (blob inputs): read before each invocation. */
  hostInputs: Array<{ name: string; read(data: Record<string, unknown>): Promise<unknown> }>;
  /** The `$return` binding is an HTTP response (the host writes it itself, never via `getResponse`). */
  httpReturn: boolean;
  /** Output bindings besides HTTP (`$return` included) — when empty, `getResponse` is skipped. */
  outputBindings: Array<{ name: string; binding: BindingInfo }>;
}

export interface OutputValue {
  name: string;
  binding: BindingInfo;
  /** RpcTypedData from the invocation model (`{string}`, `{json}`, `{bytes}`, …). */
  data: Record<string, unknown>;
}

/** Writes non-HTTP outputs (queue messages, blobs) after a successful invocation. */
export type OutputWriter = (
  entry: FunctionEntry,
  outputs: OutputValue[],
  bindingData: () => Record<string, unknown>,
) => Promise<void>;

export interface InvokeInternalOptions {
  /** RpcTypedData for the trigger binding (HTTP); otherwise `value` is handed over as is. */
  triggerData?: Record<string, unknown>;
  value?: unknown;
  /** Trigger metadata, as plain values. */
  triggerMetadata?: Record<string, unknown>;
  /** Extra words for the log line (e.g. `dequeueCount=3`). */
  logDetail?: string;
  /** The invocation id to use (callers that report it on failure choose it). @default a random UUID */
  invocationId?: string;
  /** What `{name}` expressions in binding paths see. @default the trigger value's properties and metadata */
  bindingData?: () => Record<string, unknown>;
  /** Set on retries of a function with a retry policy (`context.retryContext`). */
  retryContext?: {
    retryCount: number;
    maxRetryCount: number;
    exception?: { message?: string; stackTrace?: string };
  };
  /** Replaces the trigger input after getArguments (HTTP when the app asked for HTTP streams). */
  replaceTrigger?: () => unknown;
}

export interface InternalResult extends InvokeResult {
  invocationId: string;
}

/** Converts a plain value to RpcTypedData like `@azure/functions`' toRpcTypedData. */
export function toTypedData(value: unknown): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return { string: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { int: value } : { double: value };
  if (Buffer.isBuffer(value)) return { bytes: value };
  if (value instanceof Date) return { string: value.toISOString() };
  return { json: JSON.stringify(value) };
}

/** What the Functions host reports as the exception's message: the Error's message, or the thrown value. */
export function exceptionMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object')
    try {
      return JSON.stringify(err);
    } catch {
      /* a cyclic value: fall through */
    }
  return String(err);
}

/** The failure as Core Tools prints it under the `Executed` line: `Result`, `Exception`, `Stack`. */
function failureDetail(err: unknown): string {
  const stack = err instanceof Error && err.stack ? `\nStack: ${err.stack}` : '';
  return `Result: Failure\nException: ${exceptionMessage(err)}${stack}`;
}

export class Invoker {
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];
  /** host.json `functionTimeout`: an invocation that runs longer fails (its code cannot be stopped). */
  timeoutMs: number | undefined;
  /** Shared by every hook for the app's lifetime (the worker's `appHookData`). */
  readonly appHookData: Record<string, unknown> = {};

  constructor(
    private readonly registry: Registry,
    private readonly programmingModel: () => ProgrammingModel,
    private readonly log: HostLogger,
    private readonly writeOutputs: OutputWriter,
  ) {}

  get active(): number {
    return this.inFlight;
  }

  /** Resolves when no invocation is running, or after `timeoutMs`; returns how many were still running. */
  async drain(timeoutMs: number): Promise<number> {
    if (this.inFlight === 0) return 0;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    return this.inFlight;
  }

  async invoke(entry: FunctionEntry, opts: InvokeInternalOptions): Promise<InternalResult> {
    const name = entry.fn.name;
    const invocationId = opts.invocationId ?? randomUUID();
    const started = performance.now();
    this.inFlight++;
    try {
      const triggerMetadata: Record<string, unknown> = {};
      if (opts.triggerMetadata)
        for (const k in opts.triggerMetadata) {
          const d = toTypedData(opts.triggerMetadata[k]);
          if (d) triggerMetadata[k] = d;
        }
      const log = this.log;
      const logHooks = this.registry.hooks.log;
      const current: { context?: unknown } = {};
      const coreCtx: CoreInvocationContext = {
        invocationId,
        request: {
          invocationId,
          functionId: name,
          inputData: opts.triggerData ? [{ name: entry.fn.triggerName, data: opts.triggerData }] : [],
          triggerMetadata,
          retryContext: opts.retryContext,
        },
        metadata: entry.registration.metadata,
        log(level: string, category: string, message: string) {
          // User, system and metric lines all go to the host log, prefixed with the function name.
          if (logHooks.length) {
            // Log hooks see (and may rewrite) every user and system line of the invocation.
            const hc = { hookData: {}, level, category, message, invocationContext: current.context };
            for (const h of logHooks) h(hc);
            level = hc.level;
            message = hc.message;
          }
          const line = `[${name}] ${message}`;
          if (level === 'error' || level === 'critical') log.error(line);
          else if (level === 'warning') log.warn(line);
          else if (level !== 'trace' && level !== 'debug' && level !== 'none') log.info(line);
        },
      };
      const model = this.programmingModel().getInvocationModel(coreCtx);
      const args = await model.getArguments();
      const context = args.context;
      current.context = context;
      let inputs = args.inputs;
      if (opts.replaceTrigger) inputs = [opts.replaceTrigger()];
      else if (!opts.triggerData) inputs = [opts.value];
      for (const x of entry.extensionInputs)
        context.extraInputs.set(x.name, x.extension.inputBindingValue!(x.binding));
      let data: Record<string, unknown> | undefined;
      const dataFor = (): Record<string, unknown> =>
        (data ??= opts.bindingData
          ? opts.bindingData()
          : bindingData(opts.value, opts.triggerMetadata, undefined));
      for (const x of entry.hostInputs) context.extraInputs.set(x.name, await x.read(dataFor()));

      let callback = entry.registration.callback;
      const hooks = this.registry.hooks;
      const hookData: Record<string, unknown> = {};
      if (hooks.preInvocation.length) {
        coreCtx.state = 'preInvocationHooks';
        const hc = {
          hookData,
          appHookData: this.appHookData,
          invocationContext: context,
          inputs,
          functionCallback: callback,
        };
        for (const h of hooks.preInvocation) await h(hc);
        inputs = hc.inputs;
        callback = hc.functionCallback;
      }
      coreCtx.state = 'invocation';
      // As the Node worker: `result` and `error` start as null, so post hooks see null, not undefined.
      let result: unknown = null;
      let error: unknown = null;
      let failed = false;
      try {
        const running = model.invokeFunction(context, inputs, callback);
        result =
          this.timeoutMs === undefined ? await running : await withTimeout(running, this.timeoutMs, name);
      } catch (e) {
        error = e;
        failed = true;
      }
      if (hooks.postInvocation.length) {
        coreCtx.state = 'postInvocationHooks';
        const hc = {
          hookData,
          appHookData: this.appHookData,
          invocationContext: context,
          inputs,
          result,
          error,
        };
        for (const h of hooks.postInvocation) await h(hc);
        result = hc.result;
        error = hc.error;
        failed = error !== undefined && error !== null;
      }
      if (failed) throw error ?? new Error('the function failed');

      const outputs: Record<string, unknown> = {};
      if (entry.outputBindings.length) {
        for (const o of entry.outputBindings)
          if (o.name !== '$return') outputs[o.name] = context.extraOutputs.get(o.name);
        // The HTTP response is written by the host from `result`; handing it to getResponse would send
        // it through the library's HTTP stream proxy when the app enabled streams, which is not there.
        const response = await model.getResponse(context, entry.httpReturn ? undefined : result);
        const values: OutputValue[] = [];
        for (const o of entry.outputBindings) {
          const data =
            o.name === '$return'
              ? response.returnValue
              : (response.outputData as Array<{ name: string; data: unknown }> | undefined)?.find(
                  (d) => d.name === o.name,
                )?.data;
          if (data && typeof data === 'object')
            values.push({ name: o.name, binding: o.binding, data: data as any });
        }
        if (values.length) await this.writeOutputs(entry, values, dataFor);
      }
      this.logLine(name, invocationId, started, opts.logDetail);
      return { invocationId, returnValue: result, outputs };
    } catch (err) {
      this.logLine(name, invocationId, started, opts.logDetail, { err });
      throw err;
    } finally {
      this.settled();
    }
  }

  /**
   * Counts background host work (e.g. a timer run's status write) as in flight until the returned
   * release is called (once; later calls do nothing).
   */
  hold(): () => void {
    this.inFlight++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.settled();
    };
  }

  private settled(): void {
    if (--this.inFlight === 0 && this.drainWaiters.length) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Core Tools' line, `Executed 'Functions.<name>' (Succeeded|Failed, Id=…, Duration=…ms)`; failures add the whole exception. */
  private logLine(
    name: string,
    id: string,
    started: number,
    detail: string | undefined,
    failure?: { err: unknown },
  ): void {
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const outcome = failure ? 'Failed' : 'Succeeded';
    const line = `Executed 'Functions.${name}' (${outcome}, Id=${id}, Duration=${ms}ms${detail ? ', ' + detail : ''})`;
    if (!failure) this.log.info(line);
    else this.log.error(`${line}\n${failureDetail(failure.err)}`);
  }
}

export class FunctionTimeoutError extends Error {
  override name = 'FunctionTimeoutError';
}

function formatSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

/** Fails after `ms` on the process clock, as the Functions host does past `functionTimeout`. */
function withTimeout<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = getClock().setTimeout(
      () =>
        reject(
          new FunctionTimeoutError(
            `Timeout value of ${formatSpan(ms)} exceeded by function '${name}' (host.json functionTimeout); its code may still be running.`,
          ),
        ),
      ms,
    );
    work.then(
      (v) => {
        timer.cancel();
        resolve(v);
      },
      (e: unknown) => {
        timer.cancel();
        reject(e);
      },
    );
  });
}

/** Runs app-level hooks (`appStart`, `appTerminate`) in registration order. */
export async function runAppHooks(
  registry: Registry,
  name: 'appStart' | 'appTerminate',
  appHookData: Record<string, unknown>,
  functionAppDirectory: string,
): Promise<void> {
  // App-level hooks share one hookData from appStart to appTerminate (the library's "app-level scope").
  for (const h of registry.hooks[name]) await h({ hookData: appHookData, appHookData, functionAppDirectory });
}
