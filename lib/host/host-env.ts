/**
 * The host's process environment: local.settings.json `Values` under the process environment, the
 * embedded stack's connection settings, explicit `env` on top. Every variable the host sets is
 * remembered with its earlier value, so `restore()` (a failed start, `stop()`) undoes all of it.
 */
import { isLocalCosmos, isLocalStorage } from '../config/settings';
import type { HostLogger } from './types';

export class HostEnv {
  private readonly saved = new Map<string, string | undefined>();

  /** Sets `k`, remembering its value from before the host's first change. */
  set(k: string, v: string): void {
    if (!this.saved.has(k)) this.saved.set(k, process.env[k]);
    process.env[k] = v;
  }

  /** Puts back every variable the host changed. */
  restore(): void {
    for (const [k, v] of this.saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** local.settings.json values under the process environment, then `explicit` over both. */
export function applySettings(
  env: HostEnv,
  local: Record<string, string>,
  explicit: Record<string, string> | undefined,
  log: HostLogger,
): void {
  for (const [k, v] of Object.entries(local)) {
    // As Core Tools: the process environment wins over local.settings.json (names only, never values).
    if (process.env[k] === undefined) env.set(k, v);
    else if (process.env[k] !== v && !(explicit && k in explicit))
      log.info(
        `Skipping '${k}' from local settings as it's already defined in current environment variables.`,
      );
  }
  for (const [k, v] of Object.entries(explicit ?? {})) env.set(k, v);
}

/** Whether the settings leave storage or Cosmos DB to the embedded stack. */
export function needsEmbeddedStack(env: NodeJS.ProcessEnv): boolean {
  const storage = env.AzureWebJobsStorage;
  const cosmos = env.COSMOS_ENDPOINT;
  return !storage || isLocalStorage(storage) || !cosmos || isLocalCosmos(cosmos);
}

/** The embedded stack's settings, except those `explicit` sets. */
export function applyStackSettings(
  env: HostEnv,
  stackEnv: Record<string, string>,
  explicit: Record<string, string> | undefined,
): void {
  for (const [k, v] of Object.entries(stackEnv)) if (!explicit || !(k in explicit)) env.set(k, v);
  // Other connection settings that mean "the local emulator" (typical in local.settings.json)
  // must reach the Azurite the stack started, not the emulator's default ports.
  const storage = stackEnv.AzureWebJobsStorage;
  if (storage)
    for (const [k, v] of Object.entries(process.env))
      if (v && /^\s*UseDevelopmentStorage=true;?\s*$/i.test(v) && !(explicit && k in explicit))
        env.set(k, storage);
}
