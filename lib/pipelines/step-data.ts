import { AUTOML_OUTPUTS } from './automl-schema';
import { entries, isObj, keys, type Obj, type Path } from './rule-context';

/**
 * Where a step reads and writes data, by kind, read from the raw document (any shape) for validation:
 * the fields that hold its input bindings, the names its `${{inputs.X}}` and `${{outputs.X}}` may use,
 * and the outputs other steps may bind. A kind with fixed names (dataTransfer's `source` and `data`,
 * automl's `trainingData` and AUTOML_OUTPUTS) answers them whatever the step declares. For a validated
 * definition, graph.ts answers the same questions.
 */

/** Each input binding of the step with its path (`base` is the step's own path). */
export function bindingsOf(kind: string, step: Obj, base: Path): Array<[Path, unknown]> {
  return kind === 'dataTransfer'
    ? [[[...base, 'source'], step.source]]
    : kind === 'automl'
      ? [
          [[...base, 'trainingData'], step.trainingData],
          [[...base, 'validationData'], step.validationData],
        ]
      : kind === 'parallelRun'
        ? [
            [[...base, 'input'], step.input],
            ...entries(step.inputs).map(([k, v]): [Path, unknown] => [[...base, 'inputs', k], v]),
          ]
        : entries(step.inputs).map(([k, v]) => [[...base, 'inputs', k], v]);
}

/** The names `${{inputs.X}}` may use in the step's command and env. */
export function inputNamesOf(kind: string, step: Obj): string[] {
  return kind === 'dataTransfer'
    ? ['source']
    : kind === 'automl'
      ? ['trainingData', 'validationData']
      : kind === 'parallelRun'
        ? ['input', ...keys(step.inputs)]
        : keys(step.inputs);
}

/** The step's outputs: what `${{outputs.X}}` may use, and what `${{steps.S.outputs.X}}` may bind. */
export function outputNamesOf(step: unknown): string[] {
  if (!isObj(step)) return [];
  if (step.kind === 'dataTransfer') return ['data'];
  if (step.kind === 'automl') return Object.keys(AUTOML_OUTPUTS);
  return keys(step.outputs);
}
