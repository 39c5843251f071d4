/**
 * The engine's limits: how far an instance may run ahead of storage, how much one commit carries, how
 * large inputs, outputs and custom status may be, and the default concurrency.
 *
 * `oversized` is pure: it names the value that is too large, or returns undefined.
 */
import os from 'node:os';

/** Uncommitted episodes an instance may run ahead of storage before it waits. */
export const MAX_AHEAD = 48;
/** Characters of history per commit request (UTF-16 doubles them; the transaction limit is 4 MiB). */
export const MAX_COMMIT_CHARS = 1_500_000;

/** Inputs and outputs live in the instance row (≤ 1 MiB with UTF-16): keep each well below. */
export const MAX_VALUE_CHARS = 400_000;
/** Azure limits custom status to 16 KB. */
export const MAX_CUSTOM_STATUS_CHARS = 16 * 1024;

/** Why an episode's outcome cannot be stored (the custom status, output or continueAsNew input), if so. */
export function oversized(
  outcome: { kind: string; output?: unknown; input?: string | null },
  customStatus: string | null,
): string | undefined {
  if (customStatus !== null && customStatus.length > MAX_CUSTOM_STATUS_CHARS) {
    return `the custom status is ${customStatus.length} characters; at most ${MAX_CUSTOM_STATUS_CHARS} are allowed.`;
  }
  let text: string | null | undefined;
  if (outcome.kind === 'completed') text = JSON.stringify(outcome.output ?? null);
  else if (outcome.kind === 'continueAsNew') text = outcome.input;
  if (text && text.length > MAX_VALUE_CHARS) {
    return (
      `the ${outcome.kind === 'completed' ? 'output' : 'continueAsNew input'} is ${text.length} characters; ` +
      `the local host stores at most ${MAX_VALUE_CHARS}. Store large values in a blob and return a reference.`
    );
  }
  return undefined;
}

/** host.json `maxConcurrentActivityFunctions` / `maxConcurrentOrchestratorFunctions`, else 10 × cores. */
export function defaultConcurrency(hostJson: Record<string, any>): {
  activities: number;
  orchestrators: number;
} {
  const dt = hostJson?.extensions?.durableTask ?? {};
  const cores = Math.max(1, os.cpus().length);
  const pick = (v: unknown, d: number): number => (typeof v === 'number' && v >= 1 ? Math.floor(v) : d);
  return {
    activities: pick(dt.maxConcurrentActivityFunctions, 10 * cores),
    orchestrators: pick(dt.maxConcurrentOrchestratorFunctions, 10 * cores),
  };
}
