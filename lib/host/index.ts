/**
 * Sluice's local Functions host. STUB: the signature is the contract; lib/host owns the implementation.
 */
import type { HostExtension, RegisteredFunction } from './types';

export interface HostOptions {
  /** The function app folder (has package.json with `main`, host.json, optional local.settings.json). */
  appDir: string;
  /** @default 7071 (0 picks a free port) */
  port?: number;
  /** @default "127.0.0.1" */
  hostname?: string;
  /** Extra environment applied before the app loads (wins over local.settings.json). */
  env?: Record<string, string>;
  /** Extensions besides the built-in durable engine. */
  extensions?: HostExtension[];
  /** Start Azurite + Cosmos when settings do not name real services. @default true */
  embeddedStack?: boolean;
  /** Where the embedded stack keeps its data. @default `<appDir>/.sluice` */
  dataDir?: string;
}

export interface RunningHost {
  baseUrl: string;
  port: number;
  functions: ReadonlyMap<string, RegisteredFunction>;
  /** Graceful stop: stop taking work, wait (bounded) for in-flight invocations, stop what was started. */
  stop(): Promise<void>;
}

export async function startHost(_opts: HostOptions): Promise<RunningHost> {
  throw new Error('lib/host: startHost is not implemented yet');
}
