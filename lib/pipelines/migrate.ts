import { pointer, type FieldProblem } from '../errors/problem';

/**
 * Definitions written for an earlier format, brought to the current one before validation, each change
 * with a warning that says what to edit. Pure; the input is not modified.
 *
 * - `kind: automl` with a `command` or `args` was Sluice's first AutoML: a search over the user's trial
 *   command, which is Azure ML's HyperDriveStep. It is now `kind: sweep` (its `trials` is
 *   `maxTotalTrials`), and `kind: automl` is AutoML on FLAML. The old form runs as a sweep, unchanged.
 */
export function migrateDefinition(input: Record<string, unknown>): {
  value: Record<string, unknown>;
  warnings: FieldProblem[];
} {
  const steps = input.steps;
  if (typeof steps !== 'object' || steps === null || Array.isArray(steps))
    return { value: input, warnings: [] };
  const warnings: FieldProblem[] = [];
  let out: Record<string, unknown> | undefined;
  for (const [name, step] of Object.entries(steps as Record<string, unknown>)) {
    if (typeof step !== 'object' || step === null || Array.isArray(step)) continue;
    const s = step as Record<string, unknown>;
    if (s.kind !== 'automl' || (s.command === undefined && s.args === undefined)) continue;
    const next: Record<string, unknown> = { ...s, kind: 'sweep' };
    const renamed = 'trials' in next && !('maxTotalTrials' in next);
    if (renamed) {
      next.maxTotalTrials = next.trials;
      delete next.trials;
    }
    out ??= { ...input, steps: { ...(steps as Record<string, unknown>) } };
    (out.steps as Record<string, unknown>)[name] = next;
    warnings.push({
      pointer: pointer(['steps', name, 'kind']),
      message:
        `Step "${name}" is a search over its own command: that is now \`kind: sweep\`, and it runs as one. ` +
        `Change \`kind: automl\` to \`kind: sweep\`${renamed ? ' and `trials:` to `maxTotalTrials:`' : ''}. ` +
        '`kind: automl` now means AutoML that chooses models (trainingData, labelColumn, primaryMetric); ' +
        'the old form is deprecated and will be refused in a later version.',
    });
  }
  return { value: out ?? input, warnings };
}
