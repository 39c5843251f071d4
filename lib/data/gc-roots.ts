/**
 * The artifact GC's mark: the reachable set, built from the root documents — each dataset version
 * (`datasets`), each reuse-cache entry's outputs (`cache`), and each run document's resolved inputs and
 * step outputs (`runs`, every status). A directory is its manifest: the manifest is marked and read
 * (once) and each of its files marked. Root documents are only read here, never written; anything
 * malformed in them is ignored, but a corrupt manifest stops the GC, as its files cannot be known.
 */
import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import { queryPage } from '../azure/cosmos-page';
import { readManifest } from './cas';
import { DATASETS_CONTAINER } from './datasets';
import { DataError } from './errors';
import type { GcReport } from './gc-report';
import { mapLimit } from './limit';

// The containers RUNS owns; read here, never written. Named locally so this module does not load the
// run engine's modules.
const RUNS_CONTAINER = 'runs';
const CACHE_CONTAINER = 'cache';
const ENDED = new Set(['Completed', 'Failed', 'Canceled']);

const ROOT_PAGE = 100;
const MANIFESTS_IN_FLIGHT = 8;

export type OutputRef = { hash?: unknown; type?: unknown };

interface RunRoot {
  runId: string;
  type: string;
  status: string;
  createdAt: string;
  resolvedInputs?: Record<string, OutputRef>;
  steps?: Record<string, { outputs?: Record<string, OutputRef> }>;
}

/** The reachable set, built from root references; each manifest is read once. */
export class Marker {
  readonly marked = new Set<string>();
  missing = 0;
  private readonly read = new Set<string>();
  private dirs: string[] = [];

  /** Marks one reference found in a root document (anything malformed is ignored, not fatal). */
  add(ref: OutputRef | undefined): void {
    const hash = ref?.hash;
    if (typeof hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(hash)) return;
    this.marked.add(hash);
    if (ref?.type === 'directory' && !this.read.has(hash)) {
      this.read.add(hash);
      this.dirs.push(hash);
    }
  }

  /** Reads the manifests of the directories marked since the last call and marks their files. */
  async drain(): Promise<void> {
    while (this.dirs.length) {
      const batch = this.dirs;
      this.dirs = [];
      await mapLimit(batch, MANIFESTS_IN_FLIGHT, async (hash) => {
        try {
          for (const e of await readManifest(hash)) this.marked.add(e.hash);
        } catch (e) {
          if (e instanceof DataError && e.code === 'artifact-not-found') this.missing++;
          // Recorded as a directory but stored as a plain file: the blob is marked, it lists nothing.
          else if (e instanceof DataError && e.code === 'not-a-directory') return;
          else if (e instanceof DataError && e.code === 'integrity')
            throw new DataError(
              'integrity',
              `Artifact GC stopped, before deleting any file: ${e.message} The files of that directory cannot be known, so no file can be judged unreferenced; restore or delete that manifest, then run the GC again.`,
            );
          else throw e;
        }
      });
    }
  }
}

/** Pages through a query with continuation tokens, handing each page to `each`. */
async function forEachPage<T>(
  c: Container,
  query: string,
  since: number | undefined,
  each: (items: T[]) => Promise<void> | void,
): Promise<void> {
  const spec =
    since === undefined
      ? { query }
      : { query: `${query} AND c._ts >= @since`, parameters: [{ name: '@since', value: since }] };
  let token: string | undefined;
  do {
    const page = await queryPage<T>(c, spec, {
      limit: ROOT_PAGE,
      ...(token ? { continuationToken: token } : {}),
    });
    await each(page.items);
    token = page.continuationToken;
  } while (token);
}

export interface MarkResult {
  roots: GcReport['roots'];
  oldestActive?: { runId: string; status: string; createdAt: string };
}

/** One pass over the root documents (all, or only those changed since `since`, epoch seconds). */
export async function markRoots(marker: Marker, since?: number): Promise<MarkResult> {
  const clients = getClients();
  const roots = { datasetVersions: 0, cacheEntries: 0, runs: 0 };
  let oldestActive: MarkResult['oldestActive'];

  const datasets = await clients.container(DATASETS_CONTAINER, '/name');
  await forEachPage<OutputRef>(
    datasets,
    "SELECT c.hash, c.type FROM c WHERE c.kind = 'version'",
    since,
    async (items) => {
      roots.datasetVersions += items.length;
      for (const v of items) marker.add(v);
      await marker.drain();
    },
  );

  const cache = await clients.container(CACHE_CONTAINER, '/key');
  await forEachPage<{ outputs?: Record<string, OutputRef> }>(
    cache,
    "SELECT c.outputs FROM c WHERE c.id = 'entry'",
    since,
    async (items) => {
      roots.cacheEntries += items.length;
      for (const e of items) for (const o of Object.values(e.outputs ?? {})) marker.add(o);
      await marker.drain();
    },
  );

  const runs = await clients.container(RUNS_CONTAINER, '/runId');
  await forEachPage<RunRoot>(
    runs,
    // Step records live in the run's step pages (lib/runs/step-pages.ts), older runs' in the run document.
    "SELECT c.runId, c.type, c.status, c.createdAt, c.resolvedInputs, c.steps FROM c WHERE c.type = 'run' OR c.type = 'steps'",
    since,
    async (items) => {
      roots.runs += items.filter((r) => r.type === 'run').length;
      for (const r of items) {
        for (const i of Object.values(r.resolvedInputs ?? {})) marker.add(i);
        for (const s of Object.values(r.steps ?? {}))
          for (const o of Object.values(s?.outputs ?? {})) marker.add(o);
        if (r.type !== 'run') continue;
        if (!ENDED.has(r.status) && (!oldestActive || r.createdAt < oldestActive.createdAt))
          oldestActive = { runId: r.runId, status: r.status, createdAt: r.createdAt };
      }
      await marker.drain();
    },
  );
  return { roots, ...(oldestActive ? { oldestActive } : {}) };
}
