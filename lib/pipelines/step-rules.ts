import { ENV_NAME_RE, IDENT_RE, IDENT_RULE, SNAPSHOT_REF_RE } from './formats';
import { STEP_KINDS } from './steps-schema';
import { addWriter, type StepGraph } from './graph-rules';
import { referenceProblems } from './reference-rules';
import { parameterUseProblems } from './parameter-rules';
import { commandProblems } from './placeholder-rules';
import { automlProblems, sweepProblems } from './search-steps';
import { describeValue } from './suggest';
import { includePatternProblem } from '../snapshots/include';
import { entries, isObj, keys, type Obj, type Path, type RuleContext } from './rule-context';

/**
 * The rules of one step, in the order its problems are reported: references (bindings, `after`), code,
 * outputs and the datasets they write, env names, numeric fields given as parameters, the search kinds'
 * own rules (search-steps.ts), then what it runs and its placeholders. A step of an unknown kind is left
 * to the schema's message. Records the step's edges and dataset writes in the StepGraph.
 */

export function stepProblems(ctx: RuleContext, g: StepGraph, name: string, step: unknown): void {
  const { add } = ctx;
  g.edges.set(name, new Set());
  if (!isObj(step)) {
    if (step !== undefined)
      add(['steps', name], `A step is a mapping with at least "command"; got ${describeValue(step)}.`);
    return;
  }
  const kind = typeof step.kind === 'string' ? step.kind : 'command';
  if (!(STEP_KINDS as readonly string[]).includes(kind)) return; // reported by the schema
  const base: Path = ['steps', name];

  referenceProblems(ctx, g, name, kind, step, base);
  codeProblems(ctx, step, base);
  outputProblems(ctx, g, name, kind, step, base);
  envNameProblems(ctx, step, base);
  parameterUseProblems(ctx, step, base);
  if (kind === 'sweep') for (const p of sweepProblems(step)) add([...base, ...p.path], p.message);
  if (kind === 'automl') for (const p of automlProblems(step)) add([...base, ...p.path], p.message);
  commandProblems(ctx, kind, step, base);
}

/** Code: a directory, or { path, include } naming which of its files are the step's. */
function codeProblems(ctx: RuleContext, step: Obj, base: Path): void {
  const codeObj = isObj(step.code) ? step.code : undefined;
  const codePath = typeof step.code === 'string' ? step.code : codeObj?.path;
  const codeAt = codeObj ? [...base, 'code', 'path'] : [...base, 'code'];
  if (codeObj && Array.isArray(codeObj.include))
    codeObj.include.forEach((p, i) => {
      const why = typeof p === 'string' ? includePatternProblem(p) : undefined;
      if (why) ctx.add([...base, 'code', 'include', i], `include "${String(p)}" ${why}.`);
    });
  if (ctx.opts.requireSnapshotRefs && typeof codePath === 'string' && !SNAPSHOT_REF_RE.test(codePath))
    ctx.add(
      codeAt,
      `The server accepts code only as a snapshot reference (snapshot:sha256:<64 hex>), not "${codePath.slice(0, 80)}". ` +
        '`sluice publish FILE` packs the directory and uploads it for you; or POST a tar.gz to /api/snapshots and use the hash it returns.',
    );
}

/** Outputs: names and the datasets they write (a dataTransfer writes its destination). */
function outputProblems(
  ctx: RuleContext,
  g: StepGraph,
  name: string,
  kind: string,
  step: Obj,
  base: Path,
): void {
  for (const [o, spec] of entries(step.outputs)) {
    if (!IDENT_RE.test(o))
      ctx.add([...base, 'outputs', o], `The output name "${o}" is not valid: use ${IDENT_RULE}.`);
    if (isObj(spec) && typeof spec.dataset === 'string')
      addWriter(g, spec.dataset, name, [...base, 'outputs', o, 'dataset']);
  }
  if (kind === 'dataTransfer' && typeof step.destination === 'string')
    addWriter(g, step.destination, name, [...base, 'destination']);
}

/** Env names: valid variable names, and none in the SLUICE_ namespace the agent sets. */
function envNameProblems(ctx: RuleContext, step: Obj, base: Path): void {
  for (const k of keys(step.env)) {
    if (!ENV_NAME_RE.test(k))
      ctx.add(
        [...base, 'env', k],
        `"${k}" is not a valid environment variable name: use letters, digits and "_", not starting with a digit.`,
      );
    else if (k.toUpperCase().startsWith('SLUICE_'))
      ctx.add(
        [...base, 'env', k],
        `Environment variables starting with SLUICE_ are reserved for Sluice; rename "${k}".`,
      );
  }
}
