/**
 * Agent presence: each agent writes a row to Table `sluiceagents` (partition = pool, row = agentId) every
 * few seconds with its version, running jobs and free resources, so the live view of a target lists its
 * agents. The row is advisory (job rows stay the record of what runs); a stopped agent deletes it, a
 * dead one leaves a row whose heartbeat ages.
 */
import type { TableClient } from '@azure/data-tables';
import { getClients } from '../azure/clients';
import { tableKey } from './job-row';
import type { AgentPresence } from './live-view';

export const AGENTS_TABLE = 'sluiceagents';

export type { AgentPresence };

let table: { key: unknown; p: Promise<TableClient> } | undefined;

async function agentsTable(): Promise<TableClient> {
  const clients = getClients();
  if (table?.key !== clients) {
    const t = clients.table(AGENTS_TABLE);
    const p = t.createTable().then(() => t);
    p.catch(() => (table = undefined));
    table = { key: clients, p };
  }
  return table.p;
}

export async function writePresence(p: AgentPresence): Promise<void> {
  const t = await agentsTable();
  await t.upsertEntity(
    { partitionKey: tableKey(p.pool), rowKey: tableKey(p.agentId), doc: JSON.stringify(p) },
    'Replace',
  );
}

export async function removePresence(pool: string, agentId: string): Promise<void> {
  const t = await agentsTable();
  await t.deleteEntity(tableKey(pool), tableKey(agentId)).catch(() => undefined);
}

export async function listPresence(pool: string): Promise<AgentPresence[]> {
  const t = await agentsTable();
  const out: AgentPresence[] = [];
  const pk = tableKey(pool).replace(/'/g, "''");
  for await (const e of t.listEntities<{ doc: string }>({
    queryOptions: { filter: `PartitionKey eq '${pk}'` },
  })) {
    try {
      out.push(JSON.parse(e.doc) as AgentPresence);
    } catch {
      /* a row from another version */
    }
  }
  return out;
}
