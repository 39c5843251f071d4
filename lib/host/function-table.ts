/**
 * The host's table of functions: one `FunctionEntry` per registered function (its bindings sorted into
 * the kinds the invoker handles) and the HTTP route table. Disabled functions get an entry but no
 * route. Every route clash is reported at once, as one `HostStartError`; unsupported bindings and
 * retry policies are warned about, never silently dropped.
 */
import type { Registry } from './core-api';
import { HostStartError } from './host-start-error';
import type { FunctionEntry } from './invoker';
import { compileRoute, RouteTable } from './routes';
import type { HostLogger, RegisteredFunction } from './types';

/** `AzureWebJobs.<name>.Disabled` (or `AzureWebJobs_<name>_Disabled`) = true turns a function off, as on Azure. */
export function isDisabled(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const keys = [
    `AzureWebJobs.${name}.Disabled`,
    `AzureWebJobs_${name.replace(/[^A-Za-z0-9_]/g, '_')}_Disabled`,
  ];
  return keys.some((k) => /^\s*(true|1)\s*$/i.test(env[k] ?? ''));
}

export interface FunctionTableOptions {
  functions: ReadonlyMap<string, RegisteredFunction>;
  registry: Registry;
  /** host.json `extensions.http.routePrefix`, without slashes. */
  prefix: string;
  functionKey: string | undefined;
  masterKey: string | undefined;
  log: HostLogger;
}

export interface FunctionTable {
  entries: Map<string, FunctionEntry>;
  routes: RouteTable<FunctionEntry>;
  disabled: Set<string>;
}

export function buildFunctionTable(o: FunctionTableOptions): FunctionTable {
  const { functions, registry, prefix, functionKey, masterKey, log } = o;
  const routes = new RouteTable<FunctionEntry>();
  const entries = new Map<string, FunctionEntry>();
  const startupErrors: string[] = [];
  let unkeyed = 0;
  const seenRoutes: Array<{ key: string; methods: Set<string>; name: string }> = [];

  const disabled = new Set([...functions.keys()].filter((n) => isDisabled(n)));
  for (const fn of functions.values()) {
    const registration = [...registry.functions.values()].find((r) => r.metadata.name === fn.name)!;
    const type = fn.trigger.type.toLowerCase();
    const entry: FunctionEntry = {
      fn,
      registration,
      triggerType: type,
      isHttp: type === 'httptrigger',
      extensionInputs: [],
      hostInputs: [],
      outputBindings: [],
      httpReturn: String(fn.bindings.$return?.type ?? '').toLowerCase() === 'http',
    };
    for (const [name, b] of Object.entries(fn.bindings)) {
      if (b.direction === 'out' && b.type.toLowerCase() !== 'http')
        entry.outputBindings.push({ name, binding: b });
      if (b.direction === 'out' && !['http', 'queue', 'blob'].includes(b.type.toLowerCase()))
        log.warn(
          `Function '${fn.name}': output binding type '${b.type}' is not supported by the local host; its value is dropped.`,
        );
    }
    entries.set(fn.name, entry);
    if (fn.retryOptions && type !== 'timertrigger')
      log.warn(
        `Function '${fn.name}': its retry policy is not applied by the local host (a failure is final).`,
      );
    try {
      if (disabled.has(fn.name)) continue;
      if (entry.isHttp) {
        const authLevel = String(fn.trigger.authLevel ?? 'anonymous').toLowerCase();
        if (authLevel !== 'anonymous' && !functionKey && !masterKey) unkeyed++;
        const methods = Array.isArray(fn.trigger.methods) ? (fn.trigger.methods as string[]) : undefined;
        const template = String(fn.trigger.route ?? fn.name);
        const key = template
          .replace(/^\/+|\/+$/g, '')
          .replace(/\{(\*{0,2})[A-Za-z_][\w-]*/g, '{$1')
          .toLowerCase();
        const ms = new Set((methods ?? []).map((m) => m.toUpperCase()));
        const clash = seenRoutes.find(
          (r) =>
            r.key === key && (r.methods.size === 0 || ms.size === 0 || [...ms].some((m) => r.methods.has(m))),
        );
        if (clash)
          startupErrors.push(
            `Functions "${clash.name}" and "${fn.name}" both serve route "${template}" for the same method; give one a different route or methods.`,
          );
        seenRoutes.push({ key, methods: ms, name: fn.name });
        routes.add(compileRoute(prefix, template, methods, entry));
      }
    } catch (e) {
      startupErrors.push((e as Error).message);
    }
  }
  if (startupErrors.length) throw new HostStartError(startupErrors.join('\n'));
  if (unkeyed)
    log.warn(
      `${unkeyed} HTTP function(s) have authLevel function/admin but no key is configured ` +
        `(SLUICE_FUNCTION_KEY / SLUICE_MASTER_KEY): they are served without a key.`,
    );
  return { entries, routes, disabled };
}
