import { IDENT_RE, IDENT_RULE } from './formats';
import { parseBinding } from './graph';
import { addEdge, type StepGraph } from './graph-rules';
import { bindingsOf, outputNamesOf } from './step-data';
import { didYouMean, listNames } from './suggest';
import { isObj, keys, type Obj, type Path, type RuleContext } from './rule-context';

/**
 * A step's references to the rest of the pipeline: its input bindings (to pipeline inputs and to other
 * steps' outputs) and its `after` entries. A reference to something that does not exist names what
 * does; a reference that resolves becomes an edge of the step graph (graph-rules.ts).
 */

export function referenceProblems(
  ctx: RuleContext,
  g: StepGraph,
  name: string,
  kind: string,
  step: Obj,
  base: Path,
): void {
  const { add, pipelineInputs, stepNames } = ctx;
  const bindings = bindingsOf(kind, step, base);
  if (kind === 'command' || kind === 'sweep' || kind === 'parallelRun')
    for (const k of keys(step.inputs))
      if (!IDENT_RE.test(k))
        add([...base, 'inputs', k], `The input name "${k}" is not valid: use ${IDENT_RULE}.`);
      else if (kind === 'parallelRun' && k === 'input')
        add(
          [...base, 'inputs', k],
          'The side input name "input" is taken by the split input (the step\'s `input`); rename this one.',
        );
  for (const [path, v] of bindings) {
    if (typeof v !== 'string') continue; // type reported by the schema
    const b = parseBinding(v);
    if (b.kind === 'invalid') add(path, b.reason + '.');
    else if (b.kind === 'pipelineInput' && !pipelineInputs.includes(b.name))
      add(
        path,
        pipelineInputs.length
          ? `There is no pipeline input "${b.name}".${didYouMean(b.name, pipelineInputs)} Pipeline inputs: ${listNames(pipelineInputs)}.`
          : `There is no pipeline input "${b.name}": the pipeline declares no inputs. Add inputs: { ${b.name}: { type: dataset } } at the top level.`,
      );
    else if (b.kind === 'stepOutput') {
      if (b.step === name) add(path, `Step "${name}" cannot read its own output "${b.output}".`);
      else if (!stepNames.includes(b.step))
        add(
          path,
          `There is no step "${b.step}".${didYouMean(b.step, stepNames)} Steps: ${listNames(stepNames)}.`,
        );
      else {
        const steps = ctx.root.steps;
        const outs = outputNamesOf(isObj(steps) ? steps[b.step] : undefined);
        if (!outs.includes(b.output))
          add(
            path,
            outs.length
              ? `Step "${b.step}" has no output "${b.output}".${didYouMean(b.output, outs)} Its outputs: ${listNames(outs)}.`
              : `Step "${b.step}" has no output "${b.output}": it declares no outputs. Add outputs: { ${b.output}: { type: directory } } to it.`,
          );
        addEdge(g, name, b.step, path);
      }
    }
  }

  // Order-only edges.
  if (Array.isArray(step.after)) {
    const seenAfter = new Set<string>();
    step.after.forEach((a, i) => {
      if (typeof a !== 'string') return;
      if (a === name) add([...base, 'after', i], `Step "${name}" cannot run after itself.`);
      else if (!stepNames.includes(a))
        add(
          [...base, 'after', i],
          `There is no step "${a}".${didYouMean(a, stepNames)} Steps: ${listNames(stepNames)}.`,
        );
      else {
        if (seenAfter.has(a)) add([...base, 'after', i], `"${a}" is listed twice in after.`);
        addEdge(g, name, a, [...base, 'after', i]);
      }
      seenAfter.add(a);
    });
  }
}
