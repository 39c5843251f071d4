import { pointer, type FieldProblem } from '../errors/problem';
import { PARAM_PLACEHOLDER_RE } from './formats';
import type { PipelineDefinition } from './schema';
import { StepSchema, type StepDefinition } from './steps-schema';

/**
 * Numeric (and duration) step fields that take `${{parameters.NAME}}` instead of a literal, e.g.
 * `maxTotalTrials: ${{parameters.iterations}}`. The definition keeps the placeholder; a run resolves it
 * with the run's parameter values, typed and range-checked by the field's own schema, and everything
 * past run start sees numbers. Pure.
 */

/** Where such placeholders are allowed, by path inside a step. */
export const PARAMETER_FIELDS: ReadonlyArray<readonly string[]> = [
  ['retries'],
  ['timeout'],
  ['miniBatchSize'],
  ['errorThreshold'],
  ['maxTotalTrials'],
  ['maxConcurrentTrials'],
  ['nCrossValidations'],
  ['horizon'],
  ['limits', 'timeout'],
  ['limits', 'trialTimeout'],
  ['limits', 'maxTrials'],
  ['limits', 'maxConcurrentTrials'],
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(o: unknown, path: readonly string[]): unknown {
  let cur = o;
  for (const p of path) cur = isObj(cur) ? cur[p] : undefined;
  return cur;
}

function set(o: Obj, path: readonly string[], value: unknown): void {
  let cur = o;
  for (const p of path.slice(0, -1)) cur = cur[p] as Obj;
  cur[path[path.length - 1]!] = value;
}

/** The parameter names a step's numeric fields use, with their paths (publish checks they exist). */
export function parameterFieldUses(step: unknown): Array<{ path: string[]; parameter: string }> {
  const out: Array<{ path: string[]; parameter: string }> = [];
  for (const path of PARAMETER_FIELDS) {
    const v = at(step, path);
    const m = typeof v === 'string' ? PARAM_PLACEHOLDER_RE.exec(v) : null;
    if (m) out.push({ path: [...path], parameter: m[1]! });
  }
  return out;
}

/**
 * The definition with every numeric-field placeholder replaced by the run's value, and a problem (JSON
 * pointer into the definition) for each value its field refuses. A number in a duration field is seconds.
 */
export function resolveNumericFields(
  def: PipelineDefinition,
  parameters: Record<string, unknown>,
): { definition: PipelineDefinition; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  let steps: Record<string, StepDefinition> | undefined;
  for (const [name, step] of Object.entries(def.steps)) {
    const uses = parameterFieldUses(step);
    if (!uses.length) continue;
    const next = structuredClone(step) as unknown as Obj;
    const from = new Map<string, string>();
    for (const u of uses) {
      const value = parameters[u.parameter];
      const duration = /timeout|Timeout/.test(u.path[u.path.length - 1]!);
      set(next, u.path, duration && typeof value === 'number' ? `${value}s` : value);
      from.set(u.path.join('/'), `\${{parameters.${u.parameter}}} = ${JSON.stringify(value)}`);
    }
    const parsed = StepSchema.safeParse(next);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = issue.path.map(String).join('/');
        const src = from.get(key);
        if (!src) continue;
        const detail =
          issue.code === 'invalid_union'
            ? (issue as typeof issue & { errors?: Array<Array<{ message: string }>> }).errors?.[0]?.[0]
                ?.message
            : issue.message;
        problems.push({
          pointer: pointer(['steps', name, ...issue.path.map(String)]),
          message: `"${issue.path.map(String).join('.')}" of step "${name}" takes ${src}, which it refuses: ${detail ?? issue.message}. Pass a value in range, or change the parameter's default.`,
        });
      }
      continue;
    }
    steps ??= { ...def.steps };
    steps[name] = parsed.data;
  }
  return { definition: steps ? { ...def, steps } : def, problems };
}
