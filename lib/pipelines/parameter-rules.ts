import { parameterFieldUses } from './numeric-fields';
import { didYouMean, listNames } from './suggest';
import { entries, isObj, type Obj, type Path, type RuleContext } from './rule-context';

/**
 * The rules about parameters: a default that contradicts its own `values`, `min`, `max` or `pattern`,
 * and a numeric step field given as `${{parameters.NAME}}` that names no parameter, or one of a type the
 * field cannot take. The run's values are checked against the field's range when a run starts
 * (numeric-fields.ts), not here.
 */

/** Parameters: defaults that contradict their own constraints. */
export function parameterDefaultProblems(ctx: RuleContext): void {
  const { root, add } = ctx;
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
}

/** Numeric step fields given as `${{parameters.NAME}}`: the parameter exists and has a numeric type. */
export function parameterUseProblems(ctx: RuleContext, step: Obj, base: Path): void {
  const { root, add, params } = ctx;
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
}
