/** What the host prints at start: the functions table and where the embedded emulators listen. */
import type { HostLogger, RegisteredFunction } from './types';

function describe(fn: RegisteredFunction, baseUrl: string, prefix: string): [string, string] {
  const t = fn.trigger;
  switch (t.type.toLowerCase()) {
    case 'httptrigger': {
      const methods = Array.isArray(t.methods) && t.methods.length ? t.methods.join(',') : 'ALL';
      const route = [prefix, String(t.route ?? fn.name)].filter(Boolean).join('/');
      return ['http', `[${methods}] ${baseUrl}/${route} (auth ${String(t.authLevel ?? 'anonymous')})`];
    }
    case 'timertrigger':
      return ['timer', `${String(t.schedule)}${t.runOnStartup ? ' runOnStartup' : ''}`];
    case 'queuetrigger':
      return ['queue', `${String(t.queueName)} (${String(t.connection ?? 'AzureWebJobsStorage')})`];
    case 'blobtrigger':
      return ['blob', `${String(t.path)} (${String(t.connection ?? 'AzureWebJobsStorage')})`];
    default:
      return [t.type.replace(/Trigger$/, ''), ''];
  }
}

export function printTable(
  log: HostLogger,
  fns: Iterable<RegisteredFunction>,
  baseUrl: string,
  prefix: string,
  disabled: ReadonlySet<string>,
): void {
  const rows = [...fns].map((f) => {
    const [trigger, details] = describe(f, baseUrl, prefix);
    return [f.name, trigger, disabled.has(f.name) ? `(disabled) ${details}` : details] as const;
  });
  const w0 = Math.max(8, ...rows.map((r) => r[0].length));
  const w1 = Math.max(7, ...rows.map((r) => r[1].length));
  const lines = [`Functions (${rows.length}):`, `  ${'NAME'.padEnd(w0)}  ${'TRIGGER'.padEnd(w1)}  DETAILS`];
  for (const r of rows) lines.push(`  ${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`);
  log.info(lines.join('\n'));
}

/**
 * Where the embedded stack listens, for the start-up output (Core Tools users read Azurite's ports
 * there): `Azure Storage emulator: blob 127.0.0.1:P, queue …, table …; Cosmos DB emulator: …`.
 */
export function stackEndpoints(env: Record<string, string>): string | undefined {
  const parts: string[] = [];
  const storage = env.AzureWebJobsStorage;
  if (storage) {
    const ends = ['Blob', 'Queue', 'Table']
      .map((k) => [k, new RegExp(`${k}Endpoint=https?://([^/;]+)`, 'i').exec(storage)?.[1]] as const)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k.toLowerCase()} ${v}`);
    if (ends.length) parts.push(`Azure Storage emulator (Azurite): ${ends.join(', ')}`);
  }
  if (env.COSMOS_ENDPOINT) parts.push(`Cosmos DB emulator: ${env.COSMOS_ENDPOINT}`);
  return parts.length ? parts.join('; ') : undefined;
}
