/**
 * Lineage: which run and step produced each artifact and which consumed it. Cosmos container `lineage`,
 * partition `/hash`, one small document per edge with a deterministic id, so recording is idempotent
 * (a retried activity writes the same document again).
 */
import type { Container } from '@azure/cosmos';
import { getClients } from '../azure/clients';
import { hashHex } from './hash';

export const LINEAGE_CONTAINER = 'lineage';

export interface ProducedBy {
  runId: string;
  step: string;
  output: string;
}

export interface ConsumedBy {
  runId: string;
  step: string;
  input: string;
}

export interface Lineage {
  hash: string;
  producedBy: Array<ProducedBy & { at: string }>;
  consumedBy: Array<ConsumedBy & { at: string }>;
}

interface EdgeDoc {
  id: string;
  hash: string;
  edge: 'produced' | 'consumed';
  runId: string;
  step: string;
  name: string;
  at: string;
}

function lineage(): Promise<Container> {
  return getClients().container(LINEAGE_CONTAINER, '/hash');
}

// Cosmos ids may not contain '/', '\\', '?', '#'; run and step names are not ours to restrict.
const idPart = (s: string): string => encodeURIComponent(s).replace(/%/g, '~');

async function record(
  hash: string,
  edge: EdgeDoc['edge'],
  runId: string,
  step: string,
  name: string,
): Promise<void> {
  hashHex(hash);
  const doc: EdgeDoc = {
    id: `${edge}:${idPart(runId)}:${idPart(step)}:${idPart(name)}`,
    hash,
    edge,
    runId,
    step,
    name,
    at: new Date().toISOString(),
  };
  await (await lineage()).items.upsert(doc);
}

export function recordProduced(hash: string, by: ProducedBy): Promise<void> {
  return record(hash, 'produced', by.runId, by.step, by.output);
}

export function recordConsumed(hash: string, by: ConsumedBy): Promise<void> {
  return record(hash, 'consumed', by.runId, by.step, by.input);
}

/** Every producer and consumer of `hash`, oldest first. */
export async function getLineage(hash: string): Promise<Lineage> {
  hashHex(hash);
  const c = await lineage();
  const out: Lineage = { hash, producedBy: [], consumedBy: [] };
  const iter = c.items.query<EdgeDoc>(
    { query: 'SELECT * FROM c WHERE c.hash = @h', parameters: [{ name: '@h', value: hash }] },
    { partitionKey: hash, maxItemCount: 500 },
  );
  while (iter.hasMoreResults()) {
    const page = await iter.fetchNext();
    for (const d of page.resources ?? []) {
      if (d.edge === 'produced')
        out.producedBy.push({ runId: d.runId, step: d.step, output: d.name, at: d.at });
      else if (d.edge === 'consumed')
        out.consumedBy.push({ runId: d.runId, step: d.step, input: d.name, at: d.at });
    }
  }
  const byAt = (a: { at: string }, b: { at: string }): number => a.at.localeCompare(b.at);
  out.producedBy.sort(byAt);
  out.consumedBy.sort(byAt);
  return out;
}

/** Deletes every edge naming `runId` (the run is being deleted); returns how many there were. */
export async function deleteRunLineage(runId: string): Promise<number> {
  const c = await lineage();
  const { resources } = await c.items
    .query<{ id: string; hash: string }>({
      query: 'SELECT c.id, c.hash FROM c WHERE c.runId = @runId',
      parameters: [{ name: '@runId', value: runId }],
    })
    .fetchAll();
  await Promise.all(
    resources.map((r) =>
      c
        .item(r.id, r.hash)
        .delete()
        .catch((e: unknown) => {
          if ((e as { code?: number }).code !== 404) throw e;
        }),
    ),
  );
  return resources.length;
}
