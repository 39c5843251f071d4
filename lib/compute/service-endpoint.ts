/**
 * The service's own endpoint and key, for runners the service launches elsewhere (a Slurm job raises its
 * completion event there). `SLUICE_ENDPOINT` when set; else what the host told its in-process agent.
 * Held on `globalThis` so the host's module copy and the loaded app's copy agree.
 */
const KEY = Symbol.for('sluice.compute.service-endpoint');

interface Endpoint {
  url: string;
  key?: string;
}

export function noteServiceEndpoint(url: string, key?: string): void {
  (globalThis as unknown as Record<symbol, Endpoint>)[KEY] = { url, ...(key ? { key } : {}) };
}

export function serviceEndpoint(): Endpoint | undefined {
  const env = process.env.SLUICE_ENDPOINT;
  if (env) return { url: env, ...(process.env.SLUICE_KEY ? { key: process.env.SLUICE_KEY } : {}) };
  return (globalThis as unknown as Record<symbol, Endpoint | undefined>)[KEY];
}
