/**
 * Publish-time checks of the `environment:` fields of a pipeline that the schema cannot make: a conda
 * spec's conda-only packages (Sluice cannot install them), conflicting fields. Pure; reported with
 * JSON pointers alongside the definition's other problems.
 */
import { pointer, type FieldProblem } from '../errors/problem';
import { normalizeSpec, type EnvironmentField } from './spec';

export function environmentProblems(
  field: EnvironmentField | undefined,
  at: Array<string | number>,
): FieldProblem[] {
  if (field === undefined || typeof field === 'string') return [];
  return normalizeSpec(field).problems.map((p) => ({
    pointer: pointer([...at, ...p.path]),
    message: p.message,
  }));
}

export function definitionEnvironmentProblems(def: {
  environment?: EnvironmentField;
  steps: Record<string, { environment?: EnvironmentField; kind: string }>;
}): FieldProblem[] {
  const out = environmentProblems(def.environment, ['environment']);
  for (const [name, step] of Object.entries(def.steps)) {
    out.push(...environmentProblems(step.environment, ['steps', name, 'environment']));
    if (step.environment !== undefined && step.kind === 'dataTransfer')
      out.push({
        pointer: pointer(['steps', name, 'environment']),
        message: 'A dataTransfer step runs no command, so it has no environment; remove the field.',
      });
  }
  return out;
}
