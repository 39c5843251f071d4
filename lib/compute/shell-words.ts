/**
 * Substituting values into a POSIX shell command without the shell ever parsing them. A value put in
 * place of `${{…}}` is quoted for where the placeholder stands:
 * - outside quotes: one single-quoted word (`'it'\''s'`), or bare when it is a plain word;
 * - inside double quotes: `\`, `$`, `` ` `` and `"` escaped, so it stays literal inside them;
 * - inside single quotes: each `'` becomes `'\''` (close, escaped quote, reopen);
 * - inside `$( … )`: as outside quotes, whatever quotes surround the substitution.
 * So `echo ${{parameters.x}}`, `echo "x=${{parameters.x}}"` and `echo '${{parameters.x}}'` all print
 * the value byte for byte, whatever it holds (`;`, `$(…)`, backticks, quotes, newlines, a leading `-`).
 * A NUL cannot be passed to a process at all: callers refuse such values before they get here.
 */

const PLACEHOLDER = /\$\{\{\s*([^}]*?)\s*\}\}/y;
const SAFE_WORD = /^[A-Za-z0-9_./:@%+=,-]+$/;

/** POSIX shell single-quoting, only when needed (a plain word needs none; the empty string is `''`). */
export function shellQuote(s: string): string {
  return SAFE_WORD.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

type Context = 'plain' | 'single' | 'double';

function quoteFor(ctx: Context, value: string): string {
  switch (ctx) {
    case 'plain':
      return shellQuote(value);
    case 'double':
      return value.replace(/[\\$`"]/g, (c) => `\\${c}`);
    case 'single':
      return value.replace(/'/g, `'\\''`);
  }
}

/** One level of quoting: a `$(` opens a plain level whose `(`/`)` are counted until its own `)`. */
interface Frame {
  ctx: Context;
  subst: boolean;
  parens: number;
}

/**
 * Replaces the placeholders `resolve` knows, quoted for their place; the others stay as they are and are
 * listed in `unknown`.
 */
export function substituteShell(
  template: string,
  resolve: (expr: string) => string | undefined,
): { text: string; unknown: string[] } {
  const unknown: string[] = [];
  const stack: Frame[] = [{ ctx: 'plain', subst: false, parens: 0 }];
  let out = '';
  let i = 0;
  while (i < template.length) {
    const top = stack[stack.length - 1]!;
    PLACEHOLDER.lastIndex = i;
    const m = template[i] === '$' ? PLACEHOLDER.exec(template) : null;
    if (m) {
      const v = resolve(m[1]!);
      if (v === undefined) {
        unknown.push(m[0]);
        out += m[0];
      } else out += quoteFor(top.ctx, v);
      i += m[0].length;
      continue;
    }
    const c = template[i]!;
    out += c;
    i++;
    if (top.ctx === 'single') {
      if (c === "'") stack.pop();
      continue;
    }
    if (c === '\\' && i < template.length) {
      out += template[i]!;
      i++;
      continue;
    }
    if (c === '$' && template[i] === '(') {
      out += '(';
      i++;
      stack.push({ ctx: 'plain', subst: true, parens: 0 });
      continue;
    }
    if (top.ctx === 'double') {
      if (c === '"') stack.pop();
      continue;
    }
    if (c === "'") stack.push({ ctx: 'single', subst: false, parens: 0 });
    else if (c === '"') stack.push({ ctx: 'double', subst: false, parens: 0 });
    else if (top.subst && c === '(') top.parens++;
    else if (top.subst && c === ')') {
      if (top.parens === 0) stack.pop();
      else top.parens--;
    }
  }
  return { text: out, unknown };
}

/** Replaces placeholders with values as they are: for argument lists and env values, where no shell parses. */
export function substitutePlain(
  text: string,
  resolve: (expr: string) => string | undefined,
): { text: string; unknown: string[] } {
  const unknown: string[] = [];
  const re = new RegExp(PLACEHOLDER.source, 'g');
  const out = text.replace(re, (whole, expr: string) => {
    const v = resolve(expr);
    if (v === undefined) unknown.push(whole);
    return v ?? whole;
  });
  return { text: out, unknown };
}
