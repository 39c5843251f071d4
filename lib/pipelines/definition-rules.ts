import { pointer, type FieldProblem } from '../errors/problem';
import { IDENT_RE, IDENT_RULE } from './formats';
import { cycleProblems, datasetWriterProblems, newStepGraph } from './graph-rules';
import { parameterDefaultProblems } from './parameter-rules';
import { stepProblems } from './step-rules';
import {
  entries,
  isObj,
  keys,
  type Obj,
  type Path,
  type RuleContext,
  type ValidateOptions,
} from './rule-context';

/**
 * The rules that need the whole document, beyond what the schema checks field by field. Runs on the raw
 * input, tolerating any shape, so a document the schema refuses still gets every other problem. Order:
 * names and sizes, NUL characters, parameter defaults, each step (step-rules.ts), then the graph
 * (graph-rules.ts), which needs every step read first.
 */

/** Steps per pipeline: a bound on orchestration history size and on the cost of validating. */
export const MAX_STEPS = 5000;

export function definitionProblems(root: Obj, opts: ValidateOptions): FieldProblem[] {
  const out: FieldProblem[] = [];
  const add = (path: Path, message: string): void => {
    out.push({ pointer: pointer(path), message });
  };
  const steps = root.steps;
  const stepNames = keys(steps);
  const ctx: RuleContext = {
    root,
    opts,
    params: keys(root.parameters),
    pipelineInputs: keys(root.inputs),
    stepNames,
    add,
  };

  for (const [section, label] of [
    ['parameters', 'parameter'],
    ['inputs', 'input'],
    ['steps', 'step'],
  ] as const) {
    for (const k of keys(root[section]))
      if (!IDENT_RE.test(k)) add([section, k], `The ${label} name "${k}" is not valid: use ${IDENT_RULE}.`);
  }
  if (stepNames.length > MAX_STEPS)
    add(
      ['steps'],
      `A pipeline may have at most ${MAX_STEPS} steps; this one has ${stepNames.length}. Split it into pipelines, or use a parallelRun step to fan out over data.`,
    );
  // No process can receive a NUL (argv and environment strings end at one): refuse it where it is written.
  const walk = (v: unknown, path: Path): void => {
    if (typeof v === 'string') {
      if (v.includes('\0'))
        add(path, 'This text contains a NUL character, which no process can receive; remove it.');
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(root, []);
  if (isObj(steps) && stepNames.length === 0)
    add(['steps'], 'A pipeline needs at least one step, e.g. steps: { hello: { command: "echo hello" } }.');

  parameterDefaultProblems(ctx);

  // Steps: bindings, placeholders, after, code, env; collect graph edges and dataset writers.
  const graph = newStepGraph();
  for (const [name, step] of entries(steps)) stepProblems(ctx, graph, name, step);

  datasetWriterProblems(ctx, graph);
  cycleProblems(ctx, graph);
  return out;
}
