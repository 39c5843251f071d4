/**
 * Reachability of Sluice's dependencies, each probed with a bounded timeout. Used by `GET /api/health`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { getClients, type AzureClients } from '../azure/clients';

export interface DependencyStatus {
  ok: boolean;
  latencyMs: number;
  /** Why it failed (no secrets: account keys and SAS signatures are removed). */
  error?: string;
}

export type DependencyName = 'storage' | 'cosmos';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  version: string;
  dependencies: Record<DependencyName, DependencyStatus>;
}

export interface HealthOptions {
  /** Per-dependency time budget. Setting `SLUICE_HEALTH_TIMEOUT_MS`. @default 2000 */
  timeoutMs?: number;
  /** @default getClients() */
  clients?: AzureClients;
}

let version: string | undefined;

/** The version in Sluice's package.json. */
export function sluiceVersion(): string {
  if (version) return version;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.name === 'sluice') return (version = String(pkg.version));
    } catch {
      // keep looking upwards
    }
    if (path.dirname(dir) === dir) return (version = 'unknown');
  }
}

/** Removes credentials an SDK error message might echo (connection strings, SAS tokens). */
export function redact(message: string): string {
  return message
    .replace(/(AccountKey|SharedAccessSignature|sig|AccessKey)=[^;&\s"]+/gi, '$1=***')
    .slice(0, 500);
}

async function probe(
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<unknown>,
): Promise<DependencyStatus> {
  const t0 = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(controller.signal),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - t0) };
  } catch (err) {
    const e = err as Error & { code?: unknown };
    const text = e?.message || (e?.code ? `error ${String(e.code)}` : String(err));
    return { ok: false, latencyMs: Math.round(performance.now() - t0), error: redact(text) };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(opts: HealthOptions = {}): Promise<HealthReport> {
  const timeoutMs = opts.timeoutMs ?? (Number(process.env.SLUICE_HEALTH_TIMEOUT_MS) || 2000);
  let clients: AzureClients;
  try {
    clients = opts.clients ?? getClients();
  } catch (err) {
    const error = redact(`the settings do not describe usable clients: ${(err as Error).message}`);
    const down: DependencyStatus = { ok: false, latencyMs: 0, error };
    return { status: 'unavailable', version: sluiceVersion(), dependencies: { storage: down, cosmos: down } };
  }
  const [storage, cosmos] = await Promise.all([
    probe(timeoutMs, (abortSignal) =>
      Promise.all([
        clients.blob.getProperties({ abortSignal }),
        clients.queue.getProperties({ abortSignal }),
      ]),
    ),
    probe(timeoutMs, (abortSignal) => clients.cosmos.getDatabaseAccount({ abortSignal })),
  ]);
  return {
    status: storage.ok && cosmos.ok ? 'ok' : 'unavailable',
    version: sluiceVersion(),
    dependencies: { storage, cosmos },
  };
}
