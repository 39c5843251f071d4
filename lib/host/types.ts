/**
 * The contract between Sluice's local Functions host (lib/host) and what plugs into it, chiefly the
 * Durable Functions engine (lib/durable). The host owns loading, triggers, hooks and HTTP; an extension
 * owns one binding family (orchestrationTrigger, activityTrigger, entityTrigger, durableClient).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One binding as registered through `@azure/functions-core` (`RpcBindingInfo` plus binding options). */
export interface BindingInfo {
  type: string;
  direction: 'in' | 'out' | 'inout';
  name?: string;
  [option: string]: unknown;
}

/** A function the app registered: its metadata and the callback `@azure/functions` gave the core API. */
export interface RegisteredFunction {
  name: string;
  /** The binding name → binding map exactly as registered. */
  bindings: Record<string, BindingInfo>;
  /** The trigger binding's name and info (the one binding whose type ends in `Trigger`). */
  triggerName: string;
  trigger: BindingInfo;
  retryOptions?: unknown;
}

export interface InvokeOptions {
  /** Trigger metadata, as plain values (the host converts them for the programming model). */
  triggerMetadata?: Record<string, unknown>;
  /** Abort the invocation's wait (not the handler itself, which JS cannot stop). */
  signal?: AbortSignal;
}

export interface InvokeResult {
  /** The handler's return value (for orchestrations: the OrchestratorState object). */
  returnValue: unknown;
  /** `extraOutputs` values by binding name. */
  outputs: Record<string, unknown>;
}

export interface HostLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What the host hands an extension when it starts. */
export interface HostContext {
  /** Every registered function, by name. */
  functions: ReadonlyMap<string, RegisteredFunction>;
  /**
   * Invokes a function through the app's programming model with hooks, logging and concurrency
   * accounting. `triggerValue` is the plain JS value the trigger delivers (for an orchestration, the
   * `DurableOrchestrationBindingInfo` object; for an activity, the decoded input).
   * A handler error rejects with that error.
   */
  invoke(functionName: string, triggerValue: unknown, options?: InvokeOptions): Promise<InvokeResult>;
  /** host.json contents (parsed). */
  hostJson: Record<string, any>;
  /** The app's folder. */
  appDir: string;
  /** `http://127.0.0.1:PORT`: where the host listens. */
  baseUrl: string;
  /** The Azure Storage connection string in force (embedded Azurite or a real account). */
  storageConnectionString: string;
  log: HostLogger;
}

/** An extension of the host: started after the app is loaded, stopped on shutdown. */
export interface HostExtension {
  readonly name: string;
  /** Binding types this extension serves as triggers (e.g. `orchestrationTrigger`). */
  readonly triggerTypes: readonly string[];
  start(ctx: HostContext): Promise<void>;
  /**
   * Offered every HTTP request that did not match an app route prefix; returns true when handled.
   * The durable engine serves `/runtime/webhooks/durabletask/…` and its rpc base path here.
   */
  handleHttp?(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** The value for an input binding of this type (e.g. `durableClient`), or undefined if not ours. */
  inputBindingValue?(binding: BindingInfo): unknown;
  /** Stop taking work, wait (bounded) for in-flight work, release resources. */
  stop(): Promise<void>;
}
