import { findCycles } from './graph';
import { listNames } from './suggest';
import type { Path, RuleContext } from './rule-context';

/**
 * The rules about the pipeline as a whole graph, checked once every step has been read: no dataset is
 * written by two outputs, and no steps wait for each other in a cycle. The step rules record what these
 * need in a StepGraph as they go (edges with the pointer of the binding or `after` entry that made them,
 * and who writes which dataset); the first pointer recorded for an edge is the one a cycle names.
 */

export interface StepGraph {
  /** consumer → the steps it waits for (data edges and `after`). Every step name has an entry. */
  edges: Map<string, Set<string>>;
  /** "consumer\0producer" → pointer path of the first binding or `after` entry that made the edge. */
  edgePointer: Map<string, Path>;
  /** dataset → the outputs (or dataTransfer destinations) that register it, in document order. */
  writers: Map<string, Array<{ step: string; path: Path }>>;
}

export function newStepGraph(): StepGraph {
  return { edges: new Map(), edgePointer: new Map(), writers: new Map() };
}

/** `consumer` waits for `producer`; `path` is where the document says so. */
export function addEdge(g: StepGraph, consumer: string, producer: string, path: Path): void {
  g.edges.get(consumer)!.add(producer);
  if (!g.edgePointer.has(consumer + '\0' + producer)) g.edgePointer.set(consumer + '\0' + producer, path);
}

export function addWriter(g: StepGraph, dataset: string, step: string, path: Path): void {
  const list = g.writers.get(dataset) ?? [];
  list.push({ step, path });
  g.writers.set(dataset, list);
}

/** An output that two steps write: two steps registering the same dataset would race for "latest". */
export function datasetWriterProblems(ctx: RuleContext, g: StepGraph): void {
  for (const [dataset, list] of g.writers) {
    if (list.length < 2) continue;
    const names = [...new Set(list.map((w) => w.step))];
    for (const w of list.slice(1))
      ctx.add(
        w.path,
        `Dataset "${dataset}" is written by ${names.length > 1 ? `steps ${listNames(names)}` : `step "${w.step}" twice`}; ` +
          'a dataset may be written by one output per pipeline, otherwise which version is latest depends on which ' +
          'finishes last. Write distinct datasets, or pass the data from one step to the other.',
      );
  }
}

/** Cycles, spelled out in data-flow order, each at the pointer of the edge that closes it. */
export function cycleProblems(ctx: RuleContext, g: StepGraph): void {
  for (const cycle of findCycles(g.edges)) {
    const consumer = cycle[cycle.length - 1]!;
    const producer = cycle[cycle.length - 2]!;
    const why = cycle.slice(0, -1).map((p, i) => {
      const c = cycle[i + 1]!;
      const ptr = g.edgePointer.get(c + '\0' + p) ?? [];
      return ptr.includes('after') ? `"${c}" runs after "${p}"` : `"${c}" reads an output of "${p}"`;
    });
    ctx.add(
      g.edgePointer.get(consumer + '\0' + producer) ?? ['steps', consumer],
      `These steps form a cycle: ${spellCycle(cycle)} (${why.slice(0, 10).join('; ')}${why.length > 10 ? '; …' : ''}). A step cannot wait for itself; ` +
        'remove one of these edges (an input binding or an "after" entry).',
    );
  }
}

/** Long cycles are shortened in messages: the first steps, then the count. */
function spellCycle(cycle: string[]): string {
  if (cycle.length <= 12) return cycle.join(' → ');
  return `${cycle.slice(0, 10).join(' → ')} → … (${cycle.length - 1} steps) → ${cycle[cycle.length - 1]}`;
}
