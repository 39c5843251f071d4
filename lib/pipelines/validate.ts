import { definitionEnvironmentProblems } from '../environments/validate';
import type { core } from 'zod';
import { invalid, pointer, type FieldProblem } from '../errors/problem';
import { ENV_NAME_RE, IDENT_RE, IDENT_RULE, SNAPSHOT_REF_RE } from './formats';
import { KNOWN_KEYS, PipelineDefinitionSchema, type PipelineDefinition } from './schema';
import { STEP_KINDS } from './steps-schema';
import { AUTOML_OUTPUTS } from './automl-schema';
import { findCycles, parseBinding, scanPlaceholders } from './graph';
import { describeValue, didYouMean, listNames } from './suggest';
import { parseDefinitionText, type SourcePosition } from './source';
import { migrateDefinition } from './migrate';
import { parameterFieldUses } from './numeric-fields';
import { automlProblems, sweepProblems } from './search-steps';
import { includePatternProblem } from '../snapshots/include';

/**
 * Validation that teaches: every problem in a definition, at once, each with a JSON pointer and a
 * message saying what is wrong and how to fix it. Pure: no I/O, never throws on any input.
 */

export interface ValidateOptions {
  /**
   * Require `code` to be a snapshot reference (`snapshot:sha256:<64 hex>`), as the server does. The CLI
   * validates files before packing, where `code` is still a directory.
   * @default false
   */
  requireSnapshotRefs?: boolean;
}

/** `warnings`: the definition is accepted, but something in it should change (a deprecated form). */
export type ValidationResult =
  | { ok: true; definition: PipelineDefinition; errors: []; warnings?: FieldProblem[] }
  | { ok: false; definition?: undefined; errors: FieldProblem[]; warnings?: FieldProblem[] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): Array<[string, unknown]> => (isObj(v) ? Object.entries(v) : []);
const keys = (v: unknown): string[] => (isObj(v) ? Object.keys(v) : []);

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
    errors.push(...semanticProblems(input as Obj, opts));
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

function get(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** Known field names of the object at `path`, for "did you mean". */
function knownKeysAt(path: string[], root: Obj): string[] {
  const [a, b, c, d] = path;
  if (path.length === 0) return KNOWN_KEYS.definition;
  if (path.length === 1 && a === 'settings') return KNOWN_KEYS.settings;
  if (path.length === 2 && a === 'inputs') return KNOWN_KEYS.input;
  if (path.length === 2 && a === 'parameters') {
    const t = get(root, path.concat('type'));
    return (
      KNOWN_KEYS.parameter[typeof t === 'string' ? t : ''] ?? [
        ...new Set(Object.values(KNOWN_KEYS.parameter).flat()),
      ]
    );
  }
  if (path.length === 2 && a === 'steps') {
    const k = get(root, path.concat('kind')) ?? 'command';
    return KNOWN_KEYS.step[typeof k === 'string' ? k : ''] ?? KNOWN_KEYS.step.command!;
  }
  if (path.length === 4 && a === 'steps' && c === 'outputs' && b && d) return KNOWN_KEYS.output;
  if (path.length === 3 && a === 'steps' && c === 'code') return ['path', 'include'];
  return [];
}

function what(path: string[]): string {
  const last = path[path.length - 1];
  return last === undefined ? 'the definition' : `"${last}"`;
}

function fromIssue(issue: core.$ZodIssue, root: Obj): FieldProblem[] {
  const path = issue.path.map(String);
  const value = get(root, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(path, root);
      return issue.keys.map((k) => ({
        pointer: pointer([...path, k]),
        message:
          `Unknown field "${k}".${didYouMean(k, known)}` +
          (known.length
            ? ` Fields allowed here: ${listNames(
                known.filter((x) => x !== '$schema'),
                20,
              )}.`
            : ''),
      }));
    }
    case 'invalid_union': {
      // zod 4 adds these for discriminated unions without declaring them on the issue type.
      const u = issue as typeof issue & { note?: string; options?: unknown[]; discriminator?: string };
      if (u.note === 'No matching discriminator') {
        const options = (u.options ?? []).filter((o) => o !== null && o !== undefined).map(String);
        const field = u.discriminator ?? path[path.length - 1] ?? 'type';
        if (value === undefined)
          return [
            {
              pointer: pointer(path),
              message: `"${field}" is required here; it is one of ${listNames(options)}.`,
            },
          ];
        const noun = field === 'kind' ? 'step kind' : field === 'type' ? 'type' : `"${field}"`;
        const s = typeof value === 'string' ? didYouMean(value, options) : '';
        return [
          {
            pointer: pointer(path),
            message: `Unknown ${noun} ${describeValue(value)}.${s} Use one of ${listNames(options)}.`,
          },
        ];
      }
      const branches = (issue as typeof issue & { errors?: core.$ZodIssue[][] }).errors;
      // `code`: a directory, or { path, include }; a mapping is held to the second form's rules.
      if (path.length === 3 && path[0] === 'steps' && path[2] === 'code' && branches?.length === 2)
        return isObj(value)
          ? branches[1]!.flatMap((i) =>
              fromIssue({ ...i, path: [...issue.path, ...i.path] } as core.$ZodIssue, root),
            )
          : [
              {
                pointer: pointer(path),
                message: `"code" is a directory (a string) or { path: DIR, include: [globs] }; got ${describeValue(value)}.`,
              },
            ];
      // A numeric field that also takes ${{parameters.X}} (orParameter): the field's own rule says more.
      const first = branches?.[0];
      if (first?.length && branches!.length === 2)
        return first.flatMap((i) =>
          fromIssue({ ...i, path: [...issue.path, ...i.path] } as core.$ZodIssue, root).map((p) => ({
            ...p,
            message: `${p.message} (Or \${{parameters.NAME}}, checked when a run starts.)`,
          })),
        );
      return [{ pointer: pointer(path), message: `Not a valid value here (${describeValue(value)}).` }];
    }
    case 'invalid_type': {
      if (value === undefined)
        return [
          { pointer: pointer(path), message: `${what(path)} is required (${expectedText(issue.expected)}).` },
        ];
      if (path[0] === 'parameters' && path.length === 3 && path[2] === 'default') {
        const t = get(root, [path[0], path[1]!, 'type']);
        return [
          {
            pointer: pointer(path),
            message:
              `The default of parameter "${path[1]}" must be ${t === 'integer' ? 'an integer' : expectedText(issue.expected)} because its type is ` +
              `${String(t)}; got ${describeValue(value)}.` +
              (typeof value === 'string' && t !== 'string' && t !== 'enum' ? ' Remove the quotes.' : ''),
          },
        ];
      }
      const hint =
        issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')
          ? ` Quote it: "${String(value)}".`
          : '';
      return [
        {
          pointer: pointer(path),
          message: `${what(path)} must be ${expectedText(issue.expected)}; got ${describeValue(value)}.${hint}`,
        },
      ];
    }
    case 'invalid_value':
      if (value === undefined)
        return [
          {
            pointer: pointer(path),
            message: `${what(path)} is required; use one of ${listNames(issue.values.map(String))}.`,
          },
        ];
      return [
        {
          pointer: pointer(path),
          message:
            `${what(path)} is ${describeValue(value)}; use one of ${listNames(issue.values.map(String))}.` +
            (typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : ''),
        },
      ];
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const dir = issue.code === 'too_small' ? 'at least' : 'at most';
      const unit =
        issue.origin === 'string'
          ? ' characters'
          : issue.origin === 'array' || issue.origin === 'set'
            ? ' items'
            : '';
      return [
        {
          pointer: pointer(path),
          message: `${what(path)} must be ${dir} ${String(bound)}${unit}; got ${describeValue(value)}.`,
        },
      ];
    }
    case 'invalid_format':
      return [
        { pointer: pointer(path), message: `${what(path)}: ${issue.message} (got ${describeValue(value)}).` },
      ];
    default:
      return [{ pointer: pointer(path), message: `${what(path)}: ${issue.message}` }];
  }
}

function expectedText(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    default:
      return expected;
  }
}

const PLACEHOLDER_NAMESPACES = ['parameters', 'inputs', 'outputs'];

/** Steps per pipeline: a bound on orchestration history size and on the cost of validating. */
export const MAX_STEPS = 5000;

/** Long cycles are shortened in messages: the first steps, then the count. */
function spellCycle(cycle: string[]): string {
  if (cycle.length <= 12) return cycle.join(' → ');
  return `${cycle.slice(0, 10).join(' → ')} → … (${cycle.length - 1} steps) → ${cycle[cycle.length - 1]}`;
}

/** The rules that need the whole document. Runs on the raw input, tolerating any shape. */
function semanticProblems(root: Obj, opts: ValidateOptions): FieldProblem[] {
  const out: FieldProblem[] = [];
  const add = (path: Array<string | number>, message: string): void => {
    out.push({ pointer: pointer(path), message });
  };
  const params = keys(root.parameters);
  const pipelineInputs = keys(root.inputs);
  const steps = root.steps;
  const stepNames = keys(steps);

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
  const walk = (v: unknown, path: Array<string | number>): void => {
    if (typeof v === 'string') {
      if (v.includes('\0'))
        add(path, 'This text contains a NUL character, which no process can receive; remove it.');
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(root, []);
  if (isObj(steps) && stepNames.length === 0)
    add(['steps'], 'A pipeline needs at least one step, e.g. steps: { hello: { command: "echo hello" } }.');

  // Parameters: defaults that contradict their own constraints.
  for (const [name, p] of entries(root.parameters)) {
    if (!isObj(p)) continue;
    const d = p.default;
    if (p.type === 'enum' && Array.isArray(p.values) && typeof d === 'string' && !p.values.includes(d))
      add(
        ['parameters', name, 'default'],
        `The default "${d}" is not one of the values ${listNames(p.values.map(String))}.`,
      );
    if ((p.type === 'integer' || p.type === 'number') && typeof d === 'number') {
      if (typeof p.min === 'number' && d < p.min)
        add(['parameters', name, 'default'], `The default ${d} is below min ${p.min}.`);
      if (typeof p.max === 'number' && d > p.max)
        add(['parameters', name, 'default'], `The default ${d} is above max ${p.max}.`);
      if (typeof p.min === 'number' && typeof p.max === 'number' && p.min > p.max)
        add(['parameters', name, 'min'], `min ${p.min} is greater than max ${p.max}.`);
    }
    if (p.type === 'string' && typeof p.pattern === 'string') {
      let re: RegExp | undefined;
      try {
        re = new RegExp(p.pattern);
      } catch (e) {
        add(
          ['parameters', name, 'pattern'],
          `The pattern is not a valid regular expression: ${(e as Error).message}.`,
        );
      }
      if (re && typeof d === 'string' && !re.test(d))
        add(['parameters', name, 'default'], `The default "${d}" does not match the pattern /${p.pattern}/.`);
    }
  }

  // Steps: bindings, placeholders, after, code, env; collect graph edges and dataset writers.
  const edges = new Map<string, Set<string>>();
  const edgePointer = new Map<string, Array<string | number>>(); // "consumer\0producer" → pointer path
  const writers = new Map<string, Array<{ step: string; path: Array<string | number> }>>();
  const outputsOf = (s: string): string[] => {
    const st = isObj(steps) ? (steps as Obj)[s] : undefined;
    if (!isObj(st)) return [];
    if (st.kind === 'dataTransfer') return ['data'];
    if (st.kind === 'automl') return Object.keys(AUTOML_OUTPUTS);
    return keys(st.outputs);
  };

  for (const [name, step] of entries(steps)) {
    edges.set(name, new Set());
    if (!isObj(step)) {
      if (step !== undefined)
        add(['steps', name], `A step is a mapping with at least "command"; got ${describeValue(step)}.`);
      continue;
    }
    const kind = typeof step.kind === 'string' ? step.kind : 'command';
    if (!(STEP_KINDS as readonly string[]).includes(kind)) continue; // reported by the schema
    const base: Array<string | number> = ['steps', name];

    // Input bindings.
    const bindings: Array<[Array<string | number>, unknown]> =
      kind === 'dataTransfer'
        ? [[[...base, 'source'], step.source]]
        : kind === 'automl'
          ? [
              [[...base, 'trainingData'], step.trainingData],
              [[...base, 'validationData'], step.validationData],
            ]
          : kind === 'parallelRun'
            ? [
                [[...base, 'input'], step.input],
                ...entries(step.inputs).map(([k, v]): [Array<string | number>, unknown] => [
                  [...base, 'inputs', k],
                  v,
                ]),
              ]
            : entries(step.inputs).map(([k, v]) => [[...base, 'inputs', k], v]);
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
          const outs = outputsOf(b.step);
          if (!outs.includes(b.output))
            add(
              path,
              outs.length
                ? `Step "${b.step}" has no output "${b.output}".${didYouMean(b.output, outs)} Its outputs: ${listNames(outs)}.`
                : `Step "${b.step}" has no output "${b.output}": it declares no outputs. Add outputs: { ${b.output}: { type: directory } } to it.`,
            );
          edges.get(name)!.add(b.step);
          if (!edgePointer.has(name + '\0' + b.step)) edgePointer.set(name + '\0' + b.step, path);
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
          edges.get(name)!.add(a);
          if (!edgePointer.has(name + '\0' + a)) edgePointer.set(name + '\0' + a, [...base, 'after', i]);
        }
        seenAfter.add(a);
      });
    }

    // Code: a directory, or { path, include } naming which of its files are the step's.
    const codeObj = isObj(step.code) ? step.code : undefined;
    const codePath = typeof step.code === 'string' ? step.code : codeObj?.path;
    const codeAt = codeObj ? [...base, 'code', 'path'] : [...base, 'code'];
    if (codeObj && Array.isArray(codeObj.include))
      codeObj.include.forEach((p, i) => {
        const why = typeof p === 'string' ? includePatternProblem(p) : undefined;
        if (why) add([...base, 'code', 'include', i], `include "${String(p)}" ${why}.`);
      });
    if (opts.requireSnapshotRefs && typeof codePath === 'string' && !SNAPSHOT_REF_RE.test(codePath))
      add(
        codeAt,
        `The server accepts code only as a snapshot reference (snapshot:sha256:<64 hex>), not "${codePath.slice(0, 80)}". ` +
          '`sluice publish FILE` packs the directory and uploads it for you; or POST a tar.gz to /api/snapshots and use the hash it returns.',
      );

    // Outputs: names and the datasets they write.
    for (const [o, spec] of entries(step.outputs)) {
      if (!IDENT_RE.test(o))
        add([...base, 'outputs', o], `The output name "${o}" is not valid: use ${IDENT_RULE}.`);
      if (isObj(spec) && typeof spec.dataset === 'string') {
        const list = writers.get(spec.dataset) ?? [];
        list.push({ step: name, path: [...base, 'outputs', o, 'dataset'] });
        writers.set(spec.dataset, list);
      }
    }
    if (kind === 'dataTransfer' && typeof step.destination === 'string') {
      const list = writers.get(step.destination) ?? [];
      list.push({ step: name, path: [...base, 'destination'] });
      writers.set(step.destination, list);
    }

    // Env names.
    for (const k of keys(step.env)) {
      if (!ENV_NAME_RE.test(k))
        add(
          [...base, 'env', k],
          `"${k}" is not a valid environment variable name: use letters, digits and "_", not starting with a digit.`,
        );
      else if (k.toUpperCase().startsWith('SLUICE_'))
        add(
          [...base, 'env', k],
          `Environment variables starting with SLUICE_ are reserved for Sluice; rename "${k}".`,
        );
    }

    // Placeholders in command and env.
    const stepInputs =
      kind === 'dataTransfer'
        ? ['source']
        : kind === 'automl'
          ? ['trainingData', 'validationData']
          : kind === 'parallelRun'
            ? ['input', ...keys(step.inputs)]
            : keys(step.inputs);
    const stepOutputNames =
      kind === 'dataTransfer'
        ? ['data']
        : kind === 'automl'
          ? Object.keys(AUTOML_OUTPUTS)
          : keys(step.outputs);
    const extraNamespaces = kind === 'sweep' ? ['trial'] : [];
    for (const u of parameterFieldUses(step)) {
      const p = isObj(root.parameters) ? root.parameters[u.parameter] : undefined;
      const t = isObj(p) ? p.type : undefined;
      const duration = /timeout|Timeout/.test(u.path[u.path.length - 1]!);
      if (p === undefined)
        add(
          [...base, ...u.path],
          `\${{parameters.${u.parameter}}} names no parameter.${didYouMean(u.parameter, params)} Declare it under the top-level parameters, e.g. ${u.parameter}: { type: integer, default: 10 }.`,
        );
      else if (t !== 'integer' && t !== 'number' && !(duration && t === 'string'))
        add(
          [...base, ...u.path],
          `"${u.path.join('.')}" is ${duration ? 'a duration' : 'a number'}, but parameter "${u.parameter}" is of type ${String(t)}; use an integer${duration ? ' (seconds) or a string such as "90s"' : ''} parameter.`,
        );
    }
    if (kind === 'sweep') for (const p of sweepProblems(step)) add([...base, ...p.path], p.message);
    if (kind === 'automl') for (const p of automlProblems(step)) add([...base, ...p.path], p.message);
    const templates: Array<[Array<string | number>, unknown]> = [[[...base, 'command'], step.command]];
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
          (t) =>
            typeof t === 'string' && scanPlaceholders(t).placeholders.some((p) => p.expr === 'minibatch'),
        )
      )
        add(
          [...base, typeof step.command === 'string' ? 'command' : 'args'],
          'A parallelRun command must use ${{minibatch}}, the file listing the paths of one mini-batch.',
        );
    }
    for (const [path, text] of templates) {
      if (typeof text !== 'string') continue;
      const scan = scanPlaceholders(text);
      if (scan.unterminatedAt !== undefined)
        add(path, `"\${{" at offset ${scan.unterminatedAt} is never closed with "}}".`);
      for (const ph of scan.placeholders) {
        const msg = placeholderProblem(ph.expr, {
          params,
          inputs: stepInputs,
          outputs: stepOutputNames,
          pipelineInputs,
          stepNames,
          extraNamespaces,
          kind,
          searchSpace: keys(step.searchSpace),
        });
        if (msg) add(path, msg);
      }
    }
  }

  // An output that two steps write: two steps registering the same dataset would race for "latest".
  for (const [dataset, list] of writers) {
    if (list.length < 2) continue;
    const names = [...new Set(list.map((w) => w.step))];
    for (const w of list.slice(1))
      add(
        w.path,
        `Dataset "${dataset}" is written by ${names.length > 1 ? `steps ${listNames(names)}` : `step "${w.step}" twice`}; ` +
          'a dataset may be written by one output per pipeline, otherwise which version is latest depends on which ' +
          'finishes last. Write distinct datasets, or pass the data from one step to the other.',
      );
  }

  // Cycles, spelled out in data-flow order.
  for (const cycle of findCycles(edges)) {
    const consumer = cycle[cycle.length - 1]!;
    const producer = cycle[cycle.length - 2]!;
    const why = cycle.slice(0, -1).map((p, i) => {
      const c = cycle[i + 1]!;
      const ptr = edgePointer.get(c + '\0' + p) ?? [];
      return ptr.includes('after') ? `"${c}" runs after "${p}"` : `"${c}" reads an output of "${p}"`;
    });
    add(
      edgePointer.get(consumer + '\0' + producer) ?? ['steps', consumer],
      `These steps form a cycle: ${spellCycle(cycle)} (${why.slice(0, 10).join('; ')}${why.length > 10 ? '; …' : ''}). A step cannot wait for itself; ` +
        'remove one of these edges (an input binding or an "after" entry).',
    );
  }
  return out;
}

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
