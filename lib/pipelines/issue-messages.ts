import type { core } from 'zod';
import { pointer, type FieldProblem } from '../errors/problem';
import { KNOWN_KEYS } from './schema';
import { describeValue, didYouMean, listNames } from './suggest';
import { get, isObj, type Obj } from './rule-context';

/**
 * The schema's complaints in the user's words: each zod issue becomes problems with the JSON pointer of
 * the offending field and a message that names the field, what it got and what it takes (with a "did
 * you mean" for unknown fields and values). Pure; reads the raw document only to quote values.
 */

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

/** The problems one zod issue stands for: a union's issue is answered by the branch the value meant. */
export function fromIssue(issue: core.$ZodIssue, root: Obj): FieldProblem[] {
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
