import type { StepRecord } from './store';

/**
 * Where a run's step records live: not in the run's head document, but in **step pages**, documents of
 * the same partition (`/runId`) holding up to about `STEPS_PER_PAGE` records each. A step's page is a
 * pure function of its name and the run's page count (fixed when the run starts), so any reader can
 * point-read the one page that holds a step, and a completion rewrites the head (a few hundred bytes)
 * and the page or two it touched, never every step: the cost of a write does not grow with the run, and
 * no document grows past a page (64 records × a few KB ≪ Cosmos DB's 2 MB item limit).
 */

export const STEPS_PER_PAGE = 64;
export const STEP_PAGE_TYPE = 'steps';

export interface StepPageDoc {
  id: string;
  runId: string;
  type: typeof STEP_PAGE_TYPE;
  page: number;
  steps: Record<string, StepRecord>;
  _etag?: string;
}

/** Pages for a run of `steps` steps: one per `STEPS_PER_PAGE`, at least one. */
export function pageCount(steps: number): number {
  return Math.max(1, Math.ceil(steps / STEPS_PER_PAGE));
}

/** The page holding `step` (FNV-1a of the name, modulo the page count): stable for the run's life. */
export function pageOf(step: string, pages: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < step.length; i++) {
    h ^= step.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % pages;
}

export const pageId = (runId: string, page: number): string => `${runId}~steps~${page}`;

/** Step names by page: built once per loaded run and kept up to date as steps are added. */
export type PageIndex = Map<number, Set<string>>;

export function indexPages(names: Iterable<string>, pages: number, into: PageIndex = new Map()): PageIndex {
  for (const n of names) {
    const k = pageOf(n, pages);
    let set = into.get(k);
    if (!set) into.set(k, (set = new Set()));
    set.add(n);
  }
  return into;
}

/** The page documents for `pages` (page numbers), their records taken from `steps`. */
export function pageDocs(
  runId: string,
  steps: Record<string, StepRecord>,
  index: PageIndex,
  pages: Iterable<number>,
): StepPageDoc[] {
  const out: StepPageDoc[] = [];
  for (const page of pages) {
    const records: Record<string, StepRecord> = {};
    for (const n of index.get(page) ?? []) if (steps[n]) records[n] = steps[n]!;
    out.push({ id: pageId(runId, page), runId, type: STEP_PAGE_TYPE, page, steps: records });
  }
  return out;
}
