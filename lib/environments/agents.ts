/**
 * Agents report what they can build with (platform, Python versions, Node, uv) as a small blob
 * `agents/<pool>/<agentId>.json`, refreshed while they run; dispatch reads the pool's recent reports and
 * fails a step whose environment none of them can satisfy, with a clear message, at once.
 */
import { getClients } from '../azure/clients';
import { capabilities, unsatisfiable, type Capabilities } from './platform';
import { isPython, type NormalizedSpec } from './spec';

export const AGENTS_CONTAINER = 'agents';
/** Reports older than this are from agents long gone and are ignored. */
const FRESH_MS = 24 * 60 * 60 * 1000;

export interface AgentReport extends Omit<Capabilities, 'pythons'> {
  agentId: string;
  pool: string;
  pythons: string[];
  at: string;
}

/** Writes this agent's report; errors are the caller's to log (dispatch then simply cannot check). */
export async function reportCapabilities(pool: string, agentId: string): Promise<AgentReport> {
  const caps = await capabilities();
  const report: AgentReport = {
    agentId,
    pool,
    platform: caps.platform,
    pythons: caps.pythons.map((p) => p.version),
    node: caps.node,
    uv: caps.uv,
    at: new Date().toISOString(),
  };
  const c = getClients().blob.getContainerClient(AGENTS_CONTAINER);
  await c.createIfNotExists().catch(() => undefined);
  const body = JSON.stringify(report);
  await c.getBlockBlobClient(`${pool}/${agentId}.json`).upload(body, Buffer.byteLength(body), {
    blobHTTPHeaders: { blobContentType: 'application/json' },
  });
  return report;
}

/**
 * Reports a moment after the agent starts (probing the interpreters spawns a few processes, which a
 * short-lived agent should not pay for), then twice a day so the report stays fresh. Returns a stop.
 * @default first report after 2 s
 */
export function reportSoon(
  pool: string,
  agentId: string,
  log: (line: string) => void,
  delayMs = 2000,
): () => void {
  let stopped = false;
  const report = (): void => {
    if (stopped) return;
    void reportCapabilities(pool, agentId).catch((e: unknown) =>
      log(`reporting capabilities: ${(e as Error).message}`),
    );
  };
  const first = setTimeout(report, delayMs).unref();
  const again = setInterval(report, FRESH_MS / 2).unref();
  return () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(again);
  };
}

export async function removeReport(pool: string, agentId: string): Promise<void> {
  await getClients()
    .blob.getContainerClient(AGENTS_CONTAINER)
    .getBlockBlobClient(`${pool}/${agentId}.json`)
    .deleteIfExists()
    .catch(() => undefined);
}

const recent = new Map<string, { at: number; ttl: number; reports: Promise<AgentReport[]> }>();

/** The pool's fresh reports (cached for 10 s per pool: dispatch reads them for every environment step). */
export function poolReports(pool: string): Promise<AgentReport[]> {
  const hit = recent.get(pool);
  if (hit && Date.now() - hit.at < hit.ttl) return hit.reports;
  const reports = (async () => {
    const c = getClients().blob.getContainerClient(AGENTS_CONTAINER);
    const out: AgentReport[] = [];
    try {
      for await (const b of c.listBlobsFlat({ prefix: `${pool}/` })) {
        if (b.properties.lastModified && Date.now() - b.properties.lastModified.getTime() > FRESH_MS)
          continue;
        const buf = await c
          .getBlockBlobClient(b.name)
          .downloadToBuffer()
          .catch(() => undefined);
        if (buf) out.push(JSON.parse(buf.toString('utf8')) as AgentReport);
      }
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
    return out;
  })();
  const entry = { at: Date.now(), ttl: 10_000, reports };
  recent.set(pool, entry);
  // No report yet (agents starting): look again soon rather than in 10 s.
  reports.then((r) => (entry.ttl = r.length ? 10_000 : 1000)).catch(() => recent.delete(pool));
  return reports;
}

/**
 * Why no agent of the pool can run the spec, or undefined when one can or when none has reported
 * yet (an agent that has not started cannot be judged; its build then fails with the same reason).
 */
export function poolCannotBuild(
  reports: AgentReport[],
  spec: NormalizedSpec,
  pool: string,
): string | undefined {
  if (reports.length === 0) return undefined;
  const reasons = reports.map((r) =>
    unsatisfiable(
      { pythons: r.pythons.map((version) => ({ version, command: '', path: '' })), node: r.node },
      { python: spec.python, node: spec.node, npm: spec.npm, wantsPython: isPython(spec) },
    ),
  );
  if (reasons.some((r) => r === undefined)) return undefined;
  const shown = [...new Set(reasons)].slice(0, 3);
  return `No agent of pool "${pool}" can build this environment: ${reports.length === 1 ? 'its agent' : `its ${reports.length} agents`}: ${shown.join('; ')}. Run the step on a compute target whose agents have it, or change the environment.`;
}
