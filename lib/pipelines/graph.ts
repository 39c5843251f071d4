import { AUTOML_OUTPUTS } from './automl-schema';
import { DATASET_REF_RE } from './formats';
import type { PipelineDefinition } from './schema';
import type { OutputDefinition } from './step-fields';
import type { StepDefinition } from './steps-schema';

/**
 * The data model behind `${{…}}`: placeholders in commands and env, input bindings, and the step graph.
 * Pure functions shared by validation (lib/pipelines/validate.ts) and execution (lib/runs).
 */

/** One `${{ expr }}` occurrence in a string. */
export interface Placeholder {
  /** The expression with surrounding whitespace removed, e.g. `parameters.epochs`. */
  expr: string;
  /** Offset of `${{` in the string. */
  start: number;
  /** Offset just past `}}`. */
  end: number;
}

const PLACEHOLDER_RE = /\$\{\{([^}]*)\}\}/g;

/** Every well-formed placeholder, plus the offset of an unterminated `${{` if there is one. */
export function scanPlaceholders(text: string): { placeholders: Placeholder[]; unterminatedAt?: number } {
  const placeholders: Placeholder[] = [];
  let lastEnd = 0;
  for (const m of text.matchAll(PLACEHOLDER_RE)) {
    placeholders.push({ expr: m[1]!.trim(), start: m.index, end: m.index + m[0].length });
    lastEnd = m.index + m[0].length;
  }
  const open = text.indexOf('${{', lastEnd);
  return open >= 0 ? { placeholders, unterminatedAt: open } : { placeholders };
}

/** Replaces each `${{ expr }}` with `resolve(expr)`; an undefined result leaves the placeholder as is. */
export function substitute(text: string, resolve: (expr: string) => string | undefined): string {
  return text.replace(PLACEHOLDER_RE, (whole, expr: string) => resolve(expr.trim()) ?? whole);
}

/** What a step input (or a dataTransfer source, a parallelRun input) is bound to. */
export type Binding =
  | { kind: 'pipelineInput'; name: string }
  | { kind: 'stepOutput'; step: string; output: string }
  | { kind: 'dataset'; name: string; version: number | 'latest' }
  | { kind: 'invalid'; reason: string };

export function parseBinding(value: string): Binding {
  const trimmed = value.trim();
  const whole = /^\$\{\{([^}]*)\}\}$/.exec(trimmed);
  if (whole) {
    const parts = whole[1]!.trim().split('.');
    if (parts.length === 3 && parts[0] === 'pipeline' && parts[1] === 'inputs' && parts[2])
      return { kind: 'pipelineInput', name: parts[2] };
    if (parts.length === 4 && parts[0] === 'steps' && parts[2] === 'outputs' && parts[1] && parts[3])
      return { kind: 'stepOutput', step: parts[1], output: parts[3] };
    return {
      kind: 'invalid',
      reason: `"${trimmed}" is not a binding; use \${{pipeline.inputs.NAME}} or \${{steps.STEP.outputs.NAME}}`,
    };
  }
  const ds = DATASET_REF_RE.exec(trimmed);
  if (ds) return { kind: 'dataset', name: ds[1]!, version: ds[2] === 'latest' ? 'latest' : Number(ds[2]) };
  return {
    kind: 'invalid',
    reason:
      `"${trimmed}" is not a binding; an input is \${{pipeline.inputs.NAME}}, \${{steps.STEP.outputs.NAME}} ` +
      'or a dataset reference name@version|latest',
  };
}

/** A step's input bindings by input name (dataTransfer: `source`; parallelRun: `input`). */
export function stepInputBindings(step: StepDefinition): Record<string, string> {
  switch (step.kind) {
    case 'command':
    case 'sweep':
      return { ...(step.inputs ?? {}) };
    case 'automl':
      return {
        trainingData: step.trainingData,
        ...(step.validationData ? { validationData: step.validationData } : {}),
      };
    case 'dataTransfer':
      return { source: step.source };
    case 'parallelRun':
      return { ...(step.inputs ?? {}), input: step.input };
  }
}

/** A step's outputs: declared ones, plus the implicit `data` of a dataTransfer step. */
export function stepOutputs(step: StepDefinition): Record<string, OutputDefinition> {
  switch (step.kind) {
    case 'dataTransfer':
      return { data: { type: 'directory', dataset: step.destination } };
    case 'automl':
      return Object.fromEntries(Object.entries(AUTOML_OUTPUTS).map(([k, v]) => [k, { type: v.type }]));
    default:
      return { ...(step.outputs ?? {}) };
  }
}

/** The strings in which placeholders are substituted: the command (template) and env values. */
export function stepTemplates(step: StepDefinition): Array<{ path: string[]; text: string }> {
  const out: Array<{ path: string[]; text: string }> = [];
  if ('command' in step && typeof step.command === 'string')
    out.push({ path: ['command'], text: step.command });
  for (const [k, v] of Object.entries(step.env ?? {})) out.push({ path: ['env', k], text: v });
  return out;
}

export interface DataDependency {
  /** The consuming step's input name. */
  input: string;
  step: string;
  output: string;
}

export interface StepDependencies {
  /** Inputs fed by another step's output: data edges. */
  data: DataDependency[];
  /** `after` entries: order-only edges. */
  order: string[];
  /** Every step that must complete first (data ∪ order), deduplicated, in definition order. */
  all: string[];
}

/** For each step, the steps it waits for and why. Assumes a valid definition. */
export function stepDependencies(def: Pick<PipelineDefinition, 'steps'>): Record<string, StepDependencies> {
  const out: Record<string, StepDependencies> = {};
  for (const [name, step] of Object.entries(def.steps)) {
    const data: DataDependency[] = [];
    for (const [input, value] of Object.entries(stepInputBindings(step))) {
      const b = parseBinding(value);
      if (b.kind === 'stepOutput') data.push({ input, step: b.step, output: b.output });
    }
    const order = [...(step.after ?? [])];
    const all = [...new Set([...data.map((d) => d.step), ...order])];
    out[name] = { data, order, all };
  }
  return out;
}

/**
 * Steps in an order where each comes after everything it depends on (Kahn, ties in definition order).
 * Throws on a cycle; validate() reports cycles first, so a stored definition always sorts.
 */
export function topologicalOrder(def: Pick<PipelineDefinition, 'steps'>): string[] {
  const deps = stepDependencies(def);
  const names = Object.keys(def.steps);
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.find((n) => !done.has(n) && deps[n]!.all.every((d) => done.has(d) || !(d in deps)));
    if (next === undefined) throw new Error('the steps form a cycle');
    done.add(next);
    order.push(next);
  }
  return order;
}

/**
 * Elementary cycles to report, one per strongly connected component, each spelled in data-flow order
 * (producer before consumer) and closed: `['a', 'b', 'a']`.
 */
export function findCycles(edges: Map<string, Set<string>>): string[][] {
  // edges: consumer → producers. Flip to producer → consumer for flow order.
  const flow = new Map<string, string[]>();
  for (const n of edges.keys()) flow.set(n, []);
  for (const [consumer, producers] of edges)
    for (const p of producers) if (flow.has(p)) flow.get(p)!.push(consumer);

  // Tarjan's SCC, iterative so a long chain cannot overflow the stack.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const sccs: string[][] = [];
  const strong = (root: string): void => {
    const work: Array<{ v: string; i: number }> = [{ v: root, i: 0 }];
    idx.set(root, index);
    low.set(root, index++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1]!;
      const out = flow.get(frame.v)!;
      if (frame.i < out.length) {
        const w = out[frame.i++]!;
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(frame.v, Math.min(low.get(frame.v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(frame.v)!));
      if (low.get(frame.v) === idx.get(frame.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== frame.v);
        sccs.push(comp);
      }
    }
  };
  for (const n of flow.keys()) if (!idx.has(n)) strong(n);

  const order = [...flow.keys()];
  const cycles: string[][] = [];
  for (const comp of sccs) {
    const members = new Set(comp);
    const start = order.find((n) => members.has(n))!;
    if (comp.length === 1 && !flow.get(start)!.includes(start)) continue;
    // Shortest path start → … → start inside the component (BFS), so the message stays short.
    const prev = new Map<string, string>();
    const queue = [start];
    let found = false;
    while (queue.length && !found) {
      const v = queue.shift()!;
      for (const w of flow.get(v)!) {
        if (!members.has(w)) continue;
        if (w === start) {
          prev.set('\0end', v);
          found = true;
          break;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    let cur = prev.get('\0end')!;
    while (cur !== start) {
      path.unshift(cur);
      cur = prev.get(cur)!;
    }
    path.unshift(start);
    cycles.push(path);
  }
  return cycles;
}
