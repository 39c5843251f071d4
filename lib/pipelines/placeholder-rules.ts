import { scanPlaceholders } from './graph';
import { inputNamesOf, outputNamesOf } from './step-data';
import { didYouMean, listNames } from './suggest';
import { entries, keys, type Obj, type Path, type RuleContext } from './rule-context';

/**
 * What a step runs: it gives exactly one of `command` and `args` (kinds that run a command), a
 * parallelRun's command uses `${{minibatch}}`, and every `${{…}}` in its command, args and env is closed
 * and names something in the step's scope: its parameters, its own inputs and outputs, and a sweep's
 * `${{trial.X}}`. Another step's data used directly gets a message showing the `inputs:` line to write.
 */

export function commandProblems(ctx: RuleContext, kind: string, step: Obj, base: Path): void {
  const { add } = ctx;
  const templates: Array<[Path, unknown]> = [[[...base, 'command'], step.command]];
  if (Array.isArray(step.args)) step.args.forEach((a, i) => templates.push([[...base, 'args', i], a]));
  for (const [k, v] of entries(step.env)) templates.push([[...base, 'env', k], v]);
  if (kind !== 'dataTransfer' && kind !== 'automl') {
    if (step.command !== undefined && step.args !== undefined)
      add(
        [...base, 'args'],
        'Give either "command" (a shell command) or "args" (a program and its arguments, run without a shell), not both.',
      );
    else if (step.command === undefined && step.args === undefined)
      add(
        [...base, 'command'],
        'This step runs nothing: give "command" (a shell command) or "args" (a list: program, then one element per argument).',
      );
  }
  if (kind === 'parallelRun' && (typeof step.command === 'string' || Array.isArray(step.args))) {
    const texts = typeof step.command === 'string' ? [step.command] : (step.args as unknown[]);
    if (
      !texts.some(
        (t) => typeof t === 'string' && scanPlaceholders(t).placeholders.some((p) => p.expr === 'minibatch'),
      )
    )
      add(
        [...base, typeof step.command === 'string' ? 'command' : 'args'],
        'A parallelRun command must use ${{minibatch}}, the file listing the paths of one mini-batch.',
      );
  }
  const scope: PlaceholderScope = {
    params: ctx.params,
    inputs: inputNamesOf(kind, step),
    outputs: outputNamesOf(step),
    pipelineInputs: ctx.pipelineInputs,
    stepNames: ctx.stepNames,
    extraNamespaces: kind === 'sweep' ? ['trial'] : [],
    kind,
    searchSpace: keys(step.searchSpace),
  };
  for (const [path, text] of templates) {
    if (typeof text !== 'string') continue;
    const scan = scanPlaceholders(text);
    if (scan.unterminatedAt !== undefined)
      add(path, `"\${{" at offset ${scan.unterminatedAt} is never closed with "}}".`);
    for (const ph of scan.placeholders) {
      const msg = placeholderProblem(ph.expr, scope);
      if (msg) add(path, msg);
    }
  }
}

const PLACEHOLDER_NAMESPACES = ['parameters', 'inputs', 'outputs'];

interface PlaceholderScope {
  params: string[];
  inputs: string[];
  outputs: string[];
  pipelineInputs: string[];
  stepNames: string[];
  extraNamespaces: string[];
  kind: string;
  searchSpace: string[];
}

function placeholderProblem(expr: string, s: PlaceholderScope): string | undefined {
  const parts = expr.split('.');
  const [ns, name] = parts;
  if (expr === 'minibatch' && s.kind === 'parallelRun') return undefined;
  if (ns === 'pipeline' && parts[1] === 'inputs' && parts.length === 3)
    return (
      `\${{${expr}}} cannot be used in a command directly; bind it as a step input and use the input: ` +
      `inputs: { ${parts[2]}: "\${{pipeline.inputs.${parts[2]}}}" }, then \${{inputs.${parts[2]}}}.`
    );
  if (ns === 'steps' && parts[2] === 'outputs' && parts.length === 4)
    return (
      `\${{${expr}}} cannot be used in a command directly; declare it as an input of this step, ` +
      `inputs: { ${parts[3]}: "\${{${expr}}}" }, then use \${{inputs.${parts[3]}}}. The input is what creates the data edge.`
    );
  const namespaces = [...PLACEHOLDER_NAMESPACES, ...s.extraNamespaces];
  if (parts.length !== 2 || !ns || !name || !namespaces.includes(ns)) {
    const alias: Record<string, string> = {
      params: 'parameters',
      param: 'parameters',
      input: 'inputs',
      output: 'outputs',
    };
    const hint =
      ns && !namespaces.includes(ns)
        ? alias[ns]
          ? ` Did you mean "${alias[ns]}"?`
          : didYouMean(ns, namespaces)
        : '';
    return (
      `\${{${expr}}} names nothing.${hint} Placeholders are ${namespaces.map((n) => `\${{${n}.NAME}}`).join(', ')}` +
      (s.kind === 'parallelRun' ? ' and ${{minibatch}}' : '') +
      '.'
    );
  }
  const pool =
    ns === 'parameters'
      ? s.params
      : ns === 'inputs'
        ? s.inputs
        : ns === 'outputs'
          ? s.outputs
          : s.searchSpace;
  if (pool.includes(name)) return undefined;
  const label =
    ns === 'parameters'
      ? 'parameter'
      : ns === 'inputs'
        ? 'input of this step'
        : ns === 'outputs'
          ? 'output of this step'
          : 'search-space dimension';
  let fix = pool.length ? ` Known: ${listNames(pool)}.` : '';
  if (ns === 'inputs' && s.pipelineInputs.includes(name))
    fix += ` "${name}" is a pipeline input; bind it to this step first: inputs: { ${name}: "\${{pipeline.inputs.${name}}}" }.`;
  else if (ns === 'inputs' && s.kind !== 'dataTransfer' && s.kind !== 'parallelRun')
    fix += ` Declare it under this step's inputs.`;
  else if (ns === 'outputs')
    fix += ` Declare it under this step's outputs, e.g. outputs: { ${name}: { type: directory } }.`;
  else if (ns === 'parameters')
    fix += ` Declare it under the top-level parameters, e.g. ${name}: { type: string, default: "" }.`;
  return `\${{${expr}}} names no ${label}.${didYouMean(name, pool)}${fix}`;
}
