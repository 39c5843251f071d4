import type { FieldProblem } from '../errors/problem';
import { pointer } from '../errors/problem';
import type { ParameterDefinition } from '../pipelines/parameters-schema';
import type { PipelineDefinition } from '../pipelines/schema';
import { DATASET_REF_RE } from '../pipelines/formats';
import { closest } from '../pipelines/suggest';

function suggestName(word: string, names: string[]): string {
  const c = closest(word, names);
  return c ? `did you mean "${c}"? ` : '';
}

/**
 * Run-time values for a pipeline's parameters and inputs, checked against its definition. Pure; every
 * problem is collected (with a JSON pointer into the start request) so a caller sees them all at once.
 */

export function resolveParameters(
  def: Pick<PipelineDefinition, 'parameters'>,
  given: unknown,
  problems: FieldProblem[],
): Record<string, unknown> {
  const declared = def.parameters ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(declared)) out[name] = p.default;
  if (given === undefined || given === null) return out;
  if (typeof given !== 'object' || Array.isArray(given)) {
    problems.push({ pointer: '/parameters', message: 'parameters must be an object of name → value' });
    return out;
  }
  for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
    const at = pointer(['parameters', name]);
    const p = declared[name];
    if (!p) {
      const names = Object.keys(declared);
      problems.push({
        pointer: at,
        message:
          `unknown parameter "${name}"` +
          (names.length
            ? `; ${suggestName(name, names)}this pipeline declares ${names.map((n) => `"${n}"`).join(', ')}`
            : '; this pipeline declares no parameters'),
      });
      continue;
    }
    const err =
      typeof value === 'string' && value.includes('\0')
        ? 'contains a NUL character, which no process can receive (arguments and environment end at NUL); remove it'
        : checkValue(p, value);
    if (err) problems.push({ pointer: at, message: `parameter "${name}" ${err}` });
    else out[name] = value;
  }
  return out;
}

function checkValue(p: ParameterDefinition, v: unknown): string | undefined {
  switch (p.type) {
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return `must be an integer, got ${describe(v)}`;
      if (p.min !== undefined && v < p.min) return `must be ≥ ${p.min}, got ${v}`;
      if (p.max !== undefined && v > p.max) return `must be ≤ ${p.max}, got ${v}`;
      return undefined;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return `must be a number, got ${describe(v)}`;
      if (p.min !== undefined && v < p.min) return `must be ≥ ${p.min}, got ${v}`;
      if (p.max !== undefined && v > p.max) return `must be ≤ ${p.max}, got ${v}`;
      return undefined;
    case 'string':
      if (typeof v !== 'string') return `must be a string, got ${describe(v)}`;
      if (p.pattern !== undefined) {
        let re: RegExp | undefined;
        try {
          re = new RegExp(p.pattern);
        } catch {
          re = undefined;
        }
        if (re && !re.test(v)) return `must match /${p.pattern}/, got "${v}"`;
      }
      return undefined;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `must be true or false, got ${describe(v)}`;
    case 'enum':
      return typeof v === 'string' && p.values.includes(v)
        ? undefined
        : `must be one of ${p.values.map((x) => `"${x}"`).join(', ')}, got ${describe(v)}`;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Pipeline input name → reference (`name@version|latest` or `sha256:…`), defaults filled in. */
export function resolveInputRefs(
  def: Pick<PipelineDefinition, 'inputs'>,
  given: unknown,
  problems: FieldProblem[],
): Record<string, string> {
  const declared = def.inputs ?? {};
  const out: Record<string, string> = {};
  for (const [name, i] of Object.entries(declared)) if (i.default) out[name] = i.default;
  if (given !== undefined && given !== null) {
    if (typeof given !== 'object' || Array.isArray(given)) {
      problems.push({
        pointer: '/inputs',
        message: 'inputs must be an object of input name → dataset reference',
      });
      return out;
    }
    for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
      const at = pointer(['inputs', name]);
      if (!(name in declared)) {
        const names = Object.keys(declared);
        problems.push({
          pointer: at,
          message:
            `unknown input "${name}"` +
            (names.length
              ? `; ${suggestName(name, names)}this pipeline declares ${names.map((n) => `"${n}"`).join(', ')}`
              : '; this pipeline declares no inputs'),
        });
        continue;
      }
      if (typeof value !== 'string' || !(DATASET_REF_RE.test(value) || /^sha256:[0-9a-f]{64}$/.test(value))) {
        problems.push({
          pointer: at,
          message: `input "${name}" must be a dataset reference (name@3, name@latest) or an artifact hash sha256:<64 hex>`,
        });
        continue;
      }
      out[name] = value;
    }
  }
  for (const name of Object.keys(declared))
    if (!(name in out))
      problems.push({
        pointer: pointer(['inputs', name]),
        message: `input "${name}" has no default; bind it to a dataset (name@version) when starting the run`,
      });
  return out;
}

/**
 * `--param k=v` from a command line: typed by the definition when known, otherwise JSON-ish
 * (numbers and booleans parse, anything else is a string).
 */
export function coerceCliParameter(raw: string, type: ParameterDefinition['type'] | undefined): unknown {
  switch (type) {
    case 'integer':
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'string':
    case 'enum':
      return raw;
    default:
      if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
      if (raw === 'true' || raw === 'false') return raw === 'true';
      return raw;
  }
}
