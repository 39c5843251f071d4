/**
 * Loading the app: its entry files run through the ordinary module loaders while the core shim routes
 * their registrations to one registry, and the registrations become the host's functions. One app
 * loads at a time per process; a reload (a second host, a restart) sees the app register again.
 */
import { createRequire } from 'node:module';
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { captureRegistrations, type Registry } from './core-api';
import { HostStartError } from './host-start-error';
import type { BindingInfo, RegisteredFunction } from './types';

/** The app's CommonJS entry files load through the ordinary module loader (and its cache). */
const loadCommonJs = createRequire(__filename);

/** One app load at a time per process: the core shim routes registrations to one registry. */
let loadChain: Promise<unknown> = Promise.resolve();

export async function loadApp(
  appDir: string,
  files: string[],
  esm: boolean,
  registry: Registry,
): Promise<void> {
  const run = loadChain.then(() =>
    captureRegistrations(registry, async () => {
      // A second host in this process (a restart) must see the app register again.
      const root = resolve(appDir) + sep;
      for (const k of Object.keys(require.cache))
        if (k.startsWith(root) && !k.slice(root.length).split(sep).includes('node_modules'))
          delete require.cache[k];
      for (const f of files) {
        try {
          if (esm || f.endsWith('.mjs')) await import(pathToFileURL(f).href);
          else loadCommonJs(f);
        } catch (e) {
          throw new HostStartError(`Loading ${f} failed: ${(e as Error).stack ?? e}`);
        }
      }
    }),
  );
  loadChain = run.catch(() => {});
  await run;
}

function triggerOf(name: string, bindings: Record<string, BindingInfo>): [string, BindingInfo] {
  const found = Object.entries(bindings).find(([, b]) => /trigger$/i.test(b.type));
  if (!found) throw new HostStartError(`Function "${name}" has no trigger binding.`);
  return found;
}

/** The registered functions by name, each with its trigger binding; a function without one fails the start. */
export function registeredFunctions(registry: Registry): Map<string, RegisteredFunction> {
  const functions = new Map<string, RegisteredFunction>();
  for (const [id, r] of registry.functions) {
    const [triggerName, trigger] = triggerOf(id, r.metadata.bindings);
    functions.set(r.metadata.name, {
      name: r.metadata.name,
      bindings: r.metadata.bindings,
      triggerName,
      trigger,
      retryOptions: r.metadata.retryOptions,
    });
  }
  return functions;
}
