import type { Container } from '@azure/cosmos';
import { notFound } from '../errors/problem';
import { getClock } from '../host/clock';
import type { PipelineDefinition } from './schema';

/**
 * Drafts: definitions run without publishing a version (`sluice run FILE.yaml`, POST /api/runs/drafts).
 *
 * A draft is numbered per pipeline (draft 1, 2, …) and identified by its definition hash: running the same
 * file twice is the same draft. A run of a draft records `version: -N` (never a published version, which
 * are 1, 2, …) and the draft's `definitionHash`, so everything that loads a run's definition by
 * (pipeline, version) — the run engine included — reads the draft through `getPipelineVersion`, which
 * hands negative versions to `readDraft`. The cache key holds no version, so a draft's steps reuse what
 * published runs computed, and the reverse.
 *
 * Storage: the `pipelines` container (partition `/name`; store.ts passes it in), beside the pipeline's
 * versions: one document per draft (`draft-<N>`), one per hash (`draft-h-<hex>` → N) and a counter
 * (`draft-counter`). A draft needs no published pipeline: the edit-run loop may come first.
 */

export interface DraftDoc {
  id: string;
  type: 'draft';
  name: string;
  draft: number;
  definitionHash: string;
  definition: PipelineDefinition;
  createdAt: string;
}

const draftId = (n: number) => `draft-${String(n).padStart(10, '0')}`;
const hashId = (hash: string) => `draft-h-${hash.replace(/^sha256:/, '')}`;
const COUNTER_ID = 'draft-counter';

const isStatus = (e: unknown, code: number): boolean => (e as { code?: number })?.code === code;

async function read<T extends object>(
  c: Container,
  id: string,
  name: string,
): Promise<(T & { _etag?: string }) | undefined> {
  try {
    return ((await c.item(id, name).read<T>()).resource ?? undefined) as (T & { _etag?: string }) | undefined;
  } catch (e) {
    if (isStatus(e, 404)) return undefined;
    throw e;
  }
}

/** The next draft number of a pipeline (an etag-guarded counter; a lost race retries). */
async function nextDraftNumber(c: Container, name: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const counter = await read<{ id: string; name: string; type: string; last: number }>(c, COUNTER_ID, name);
    try {
      if (!counter) {
        await c.items.create({ id: COUNTER_ID, name, type: 'draft-counter', last: 1 });
        return 1;
      }
      const next = counter.last + 1;
      await c
        .item(COUNTER_ID, name)
        .replace(
          { id: COUNTER_ID, name, type: 'draft-counter', last: next },
          { accessCondition: { type: 'IfMatch', condition: counter._etag! } },
        );
      return next;
    } catch (e) {
      if (isStatus(e, 409) || isStatus(e, 412)) continue;
      throw e;
    }
  }
  throw new Error(`pipeline ${name}: too many concurrent drafts`);
}

/**
 * Stores a validated definition as a draft, or finds the draft with the same content. `hash` is the
 * definition's hash (store.ts `definitionHash`, the same rule as published versions).
 */
export async function saveDraft(
  c: Container,
  def: PipelineDefinition,
  hash: string,
): Promise<{ draft: DraftDoc; created: boolean }> {
  const known = await read<{ draft: number }>(c, hashId(hash), def.name);
  if (known) {
    const doc = await read<DraftDoc>(c, draftId(known.draft), def.name);
    if (doc) return { draft: doc, created: false };
  }
  const n = await nextDraftNumber(c, def.name);
  const doc: DraftDoc = {
    id: draftId(n),
    type: 'draft',
    name: def.name,
    draft: n,
    definitionHash: hash,
    definition: def,
    createdAt: new Date(getClock().now()).toISOString(),
  };
  await c.items.create(doc);
  // Two saves of one new definition may both get here: the first hash document wins, and is the answer.
  try {
    await c.items.create({ id: hashId(hash), name: def.name, type: 'draft-hash', draft: n });
    return { draft: doc, created: true };
  } catch (e) {
    if (!isStatus(e, 409)) throw e;
    const winner = await read<{ draft: number }>(c, hashId(hash), def.name);
    const won = winner && (await read<DraftDoc>(c, draftId(winner.draft), def.name));
    return { draft: won || doc, created: false };
  }
}

/** A draft by its number (the positive N of a run's `version: -N`). */
export async function readDraft(c: Container, name: string, n: number): Promise<DraftDoc> {
  const doc = Number.isInteger(n) && n > 0 ? await read<DraftDoc>(c, draftId(n), name) : undefined;
  if (!doc) throw notFound(`Pipeline "${name}" has no draft ${n}.`);
  return doc;
}

/** The `version` a run of draft N records. */
export const draftVersion = (n: number): number => -n;
