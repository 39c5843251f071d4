import { definitionEnvironmentProblems } from '../environments/validate';
import { invalid, pointer, type FieldProblem } from '../errors/problem';
import { PipelineDefinitionSchema, type PipelineDefinition } from './schema';
import { describeValue, didYouMean } from './suggest';
import { parseDefinitionText, type SourcePosition } from './source';
import { migrateDefinition } from './migrate';
import { fromIssue } from './issue-messages';
import { definitionProblems } from './definition-rules';
import { isObj, type Obj, type ValidateOptions } from './rule-context';

/**
 * Validation that teaches: every problem in a definition, at once, each with a JSON pointer and a
 * message saying what is wrong and how to fix it. Pure: no I/O, never throws on any input.
 *
 * The entry points publish, draft runs and the CLI call. Problems come from the schema
 * (issue-messages.ts turns zod's issues into messages), from the rules that need the whole document
 * (definition-rules.ts and the rule modules it runs) and from the environments; one problem with the
 * same pointer and message is reported once.
 */

export type { ValidateOptions };

/** `warnings`: the definition is accepted, but something in it should change (a deprecated form). */
export type ValidationResult =
  | { ok: true; definition: PipelineDefinition; errors: []; warnings?: FieldProblem[] }
  | { ok: false; definition?: undefined; errors: FieldProblem[]; warnings?: FieldProblem[] };

/**
 * Steps (and the pipeline default) naming a compute target that does not exist: one problem each, with
 * the names that do. Publish and run start both check, so a target removed in between is caught too.
 */
export function computeTargetProblems(def: PipelineDefinition, targets: readonly string[]): FieldProblem[] {
  const known = `Configured targets: ${targets.length ? targets.map((t) => `"${t}"`).join(', ') : 'none'}.`;
  const out: FieldProblem[] = [];
  const fallback = def.settings?.defaultCompute ?? 'local';
  const usesDefault = Object.values(def.steps).some((s) => !s.compute);
  if (usesDefault && !targets.includes(fallback))
    out.push({
      pointer: def.settings?.defaultCompute ? '/settings/defaultCompute' : '/settings',
      message: `Steps without "compute" run on "${fallback}", which is not a compute target.${didYouMean(fallback, targets)} ${known}`,
    });
  for (const [name, s] of Object.entries(def.steps))
    if (s.compute && !targets.includes(s.compute))
      out.push({
        pointer: pointer(['steps', name, 'compute']),
        message: `Step "${name}" names compute target "${s.compute}", which does not exist.${didYouMean(s.compute, targets)} ${known}`,
      });
  return out;
}

/** Validates a parsed definition (from JSON or YAML). */
export function validateDefinition(input: unknown, opts: ValidateOptions = {}): ValidationResult {
  let errors: FieldProblem[];
  let warnings: FieldProblem[] = [];
  let parsed: PipelineDefinition | undefined;
  try {
    if (!isObj(input)) {
      return {
        ok: false,
        errors: [
          {
            pointer: '',
            message:
              `A pipeline definition is a mapping with at least "name" and "steps"; got ${describeValue(input)}. ` +
              'See GET /api/schemas/pipeline.json for the format.',
          },
        ],
      };
    }
    const migrated = migrateDefinition(input);
    warnings = migrated.warnings;
    input = migrated.value;
    const result = PipelineDefinitionSchema.safeParse(input);
    errors = result.success ? [] : result.error.issues.flatMap((i) => fromIssue(i, input as Obj));
    errors.push(...definitionProblems(input as Obj, opts));
    if (result.success) errors.push(...definitionEnvironmentProblems(result.data));
    if (result.success) parsed = result.data;
  } catch (e) {
    // A validator bug must still not become a 500 for the caller's document.
    errors = [{ pointer: '', message: `The definition could not be validated: ${(e as Error).message}` }];
  }
  errors = dedupe(errors);
  const w = warnings.length ? { warnings } : {};
  if (errors.length === 0 && parsed) return { ok: true, definition: parsed, errors: [], ...w };
  return { ok: false, errors, ...w };
}

/** Parses YAML or JSON text and validates it; positions map each pointer to its line and column. */
export function validateDefinitionText(
  text: string,
  opts: ValidateOptions = {},
): ValidationResult & { positions: Map<string, SourcePosition>; value: unknown } {
  const src = parseDefinitionText(text);
  if (src.value === undefined && src.problems.length > 0)
    return { ok: false, errors: src.problems, positions: src.positions, value: undefined };
  const r = validateDefinition(src.value, opts);
  if (src.problems.length > 0)
    return {
      ok: false,
      errors: dedupe([...src.problems, ...r.errors]),
      positions: src.positions,
      value: src.value,
    };
  return { ...r, positions: src.positions, value: src.value };
}

/** The valid definition, or a 400 ProblemError listing every problem. */
export function assertValidDefinition(input: unknown, opts: ValidateOptions = {}): PipelineDefinition {
  const r = validateDefinition(input, opts);
  if (!r.ok) throw invalid(r.errors, summary(r.errors));
  return r.definition;
}

export function summary(errors: FieldProblem[]): string {
  return errors.length === 1
    ? `The pipeline definition has a problem: ${errors[0]!.message}`
    : `The pipeline definition has ${errors.length} problems; each is listed in errors[] with a JSON pointer.`;
}

function dedupe(errors: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = e.pointer + '\0' + e.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
