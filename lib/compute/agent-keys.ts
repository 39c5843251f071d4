/**
 * Agent keys: what `sluice agent --endpoint URL --key KEY --pool P` presents to get scoped credentials.
 * Cosmos container `agentKeys` (partition `/id`); only the key's sha256 is stored. A key serves one pool
 * and is revoked by deleting it: the next renewal is refused and the agent stops taking jobs.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { getClients } from '../azure/clients';
import { getClock } from '../host/clock';

export const AGENT_KEYS_CONTAINER = 'agentKeys';

interface AgentKeyDoc {
  id: string;
  pool: string;
  sha256: string;
  createdAt: string;
  description?: string;
}

export interface AgentKeyView {
  id: string;
  pool: string;
  createdAt: string;
  description?: string;
}

const code = (e: unknown): number | undefined => (e as { code?: number })?.code;

async function container() {
  return getClients().container(AGENT_KEYS_CONTAINER, '/id');
}

const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** Creates a key for `pool`; the key itself is returned once and never stored. */
export async function createAgentKey(
  pool: string,
  description?: string,
): Promise<AgentKeyView & { key: string }> {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const doc: AgentKeyDoc = {
    id,
    pool,
    sha256: digest(secret),
    createdAt: new Date(getClock().now()).toISOString(),
    ...(description ? { description } : {}),
  };
  await (await container()).items.create(doc);
  return {
    id,
    pool,
    createdAt: doc.createdAt,
    ...(description ? { description } : {}),
    key: `sak.${id}.${secret}`,
  };
}

export async function listAgentKeys(pool?: string): Promise<AgentKeyView[]> {
  const { resources } = await (await container()).items.readAll<AgentKeyDoc>().fetchAll();
  return resources
    .filter((d) => !pool || d.pool === pool)
    .map(({ id, pool: p, createdAt, description }) => ({
      id,
      pool: p,
      createdAt,
      ...(description ? { description } : {}),
    }));
}

/** Revokes (deletes) a key; false when there was none. */
export async function revokeAgentKey(id: string): Promise<boolean> {
  try {
    await (await container()).item(id, id).delete();
    return true;
  } catch (e) {
    if (code(e) === 404) return false;
    throw e;
  }
}

export type KeyCheck = { ok: true; id: string; pool: string } | { ok: false; why: string };

/** Whether `key` is a live agent key; the reason when it is not (for the agent's error). */
export async function checkAgentKey(key: string | null | undefined): Promise<KeyCheck> {
  const m = /^sak\.([0-9a-f]{12})\.([A-Za-z0-9_-]{20,})$/.exec(key ?? '');
  if (!m)
    return {
      ok: false,
      why: 'No agent key, or not one: send the key `sluice compute keys create --pool P` printed (sak.…) in x-sluice-agent-key.',
    };
  let doc: AgentKeyDoc | undefined;
  try {
    doc = (await (await container()).item(m[1]!, m[1]!).read<AgentKeyDoc>()).resource ?? undefined;
  } catch (e) {
    if (code(e) !== 404) throw e;
  }
  const a = Buffer.from(doc?.sha256 ?? '0'.repeat(64), 'hex');
  const b = Buffer.from(digest(m[2]!), 'hex');
  if (!doc || !timingSafeEqual(a, b))
    return {
      ok: false,
      why: `Agent key ${m[1]} is unknown or was revoked; ask for a new one (sluice compute keys create).`,
    };
  return { ok: true, id: doc.id, pool: doc.pool };
}
