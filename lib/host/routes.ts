/**
 * HTTP route templates as the Functions host understands them (ASP.NET Core route syntax):
 * literals, `{name}`, optional `{name?}`, defaults `{name=value}`, catch-all `{*rest}`, and inline
 * constraints `{id:int}`, `{id:int:min(1)}`, `{x:alpha}`, `{g:guid}`, `{b:bool}`, `{n:long}`,
 * `{d:double}`, `{s:length(3)}`, `{s:regex(^a+$)}` …. Pure logic: no I/O.
 */

export class RouteTemplateError extends Error {
  override name = 'RouteTemplateError';
}

type Check = (value: string) => boolean;

interface Param {
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
  checks: Check[];
}

export interface CompiledRoute<T = unknown> {
  template: string;
  /** Upper-case methods; empty means every method. */
  methods: ReadonlySet<string>;
  target: T;
  match(path: string): Record<string, string> | undefined;
  /** Orders routes most-specific first (literal < constrained < plain < optional < catch-all). */
  rank: number[];
}

const num = (s: string): number => Number(s.trim());

function constraint(spec: string, template: string): Check {
  const m = /^([a-zA-Z]+)(?:\((.*)\))?$/s.exec(spec);
  if (!m) throw new RouteTemplateError(`Route "${template}": constraint "${spec}" is not understood.`);
  const name = m[1]!.toLowerCase();
  const arg = m[2];
  const args = arg === undefined ? [] : arg.split(',');
  switch (name) {
    case 'int':
      return (v) => /^-?\d+$/.test(v) && Math.abs(Number(v)) <= 2_147_483_648;
    case 'long':
      return (v) =>
        /^-?\d+$/.test(v) && BigInt(v) <= 9223372036854775807n && BigInt(v) >= -9223372036854775808n;
    case 'float':
    case 'double':
    case 'decimal':
      return (v) => /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v);
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'guid':
      return (v) => /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[})]?$/i.test(v);
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'minlength':
      return (v) => v.length >= num(args[0] ?? '0');
    case 'maxlength':
      return (v) => v.length <= num(args[0] ?? '0');
    case 'length':
      return args.length > 1
        ? (v) => v.length >= num(args[0]!) && v.length <= num(args[1]!)
        : (v) => v.length === num(args[0] ?? '0');
    case 'min':
      return (v) => /^-?\d+$/.test(v) && Number(v) >= num(args[0] ?? '0');
    case 'max':
      return (v) => /^-?\d+$/.test(v) && Number(v) <= num(args[0] ?? '0');
    case 'range':
      return (v) => /^-?\d+$/.test(v) && Number(v) >= num(args[0] ?? '0') && Number(v) <= num(args[1] ?? '0');
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(arg ?? '', 'i');
      } catch (e) {
        throw new RouteTemplateError(`Route "${template}": ${(e as Error).message}`);
      }
      return (v) => re.test(v);
    }
    default:
      throw new RouteTemplateError(
        `Route "${template}": unknown constraint "${name}" (known: int, long, float, double, decimal, bool, guid, datetime, alpha, minlength, maxlength, length, min, max, range, regex).`,
      );
  }
}

/** Splits `name:c1:c2(a,b)?` into parts, keeping `:` inside parentheses (regex constraints). */
function splitParam(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of body) {
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    if (c === ':' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function parseParam(body: string, template: string): Param {
  let catchAll = false;
  if (body.startsWith('**')) {
    catchAll = true;
    body = body.slice(2);
  } else if (body.startsWith('*')) {
    catchAll = true;
    body = body.slice(1);
  }
  const parts = splitParam(body);
  let name = parts[0]!.trim();
  let optional = false;
  let defaultValue: string | undefined;
  let last = parts[parts.length - 1]!;
  if (last.endsWith('?')) {
    optional = true;
    last = last.slice(0, -1);
    parts[parts.length - 1] = last;
    if (parts.length === 1) name = last.trim();
  }
  const eq = parts[parts.length - 1]!.indexOf('=');
  if (eq >= 0 && !parts[parts.length - 1]!.includes('(')) {
    defaultValue = parts[parts.length - 1]!.slice(eq + 1);
    parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, eq);
    if (parts.length === 1) name = parts[0]!.trim();
  }
  if (!/^[A-Za-z_][\w-]*$/.test(name))
    throw new RouteTemplateError(`Route "${template}": parameter name "${name}" is not valid.`);
  const checks = parts.slice(1).map((c) => constraint(c.trim(), template));
  return { name, optional: optional || catchAll, catchAll, defaultValue, checks };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Compiles `template` (without the route prefix) under `prefix` (e.g. `api`). */
export function compileRoute<T>(
  prefix: string,
  template: string,
  methods: readonly string[] | undefined,
  target: T,
): CompiledRoute<T> {
  const full = [prefix, template]
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/');
  const params: Param[] = [];
  const rank: number[] = [];
  let re = '^';
  const segments = full === '' ? [] : full.split('/');
  segments.forEach((segment, index) => {
    const pieces = segment.split(/(\{[^{}]*(?:\([^)]*\)[^{}]*)?\})/).filter((p) => p !== '');
    const single = pieces.length === 1 && pieces[0]!.startsWith('{');
    if (single) {
      const p = parseParam(pieces[0]!.slice(1, -1), template);
      if (p.catchAll && index !== segments.length - 1)
        throw new RouteTemplateError(`Route "${template}": a catch-all parameter must be the last segment.`);
      params.push(p);
      const group = `(?<p${params.length - 1}>${p.catchAll ? '.*' : '[^/]+'})`;
      re += p.optional || p.defaultValue !== undefined ? `(?:/${group})?` : `/${group}`;
      rank.push(p.catchAll ? 4 : p.optional ? 3 : p.checks.length ? 1 : 2);
      return;
    }
    re += '/';
    let segRank = 0;
    for (const piece of pieces) {
      if (piece.startsWith('{') && piece.endsWith('}')) {
        const p = parseParam(piece.slice(1, -1), template);
        if (p.catchAll)
          throw new RouteTemplateError(`Route "${template}": a catch-all must fill a whole segment.`);
        params.push(p);
        re += `(?<p${params.length - 1}>[^/]+?)`;
        segRank = Math.max(segRank, 1);
      } else re += escape(piece);
    }
    rank.push(segRank);
  });
  re += '/?$';
  const regex = new RegExp(re, 'i');
  return {
    template,
    methods: new Set((methods ?? []).map((m) => m.toUpperCase())),
    target,
    rank,
    match(path: string) {
      const m = regex.exec(path);
      if (!m) return undefined;
      const out: Record<string, string> = {};
      for (let i = 0; i < params.length; i++) {
        const p = params[i]!;
        const raw = m.groups?.[`p${i}`];
        if (raw === undefined || raw === '') {
          if (p.defaultValue !== undefined) out[p.name] = p.defaultValue;
          else if (!p.optional) return undefined;
          continue;
        }
        const value = p.catchAll ? raw.split('/').map(decode).join('/') : decode(raw);
        for (const check of p.checks) if (!check(value)) return undefined;
        out[p.name] = value;
      }
      return out;
    },
  };
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return b.length - a.length;
}

export type RouteLookup<T> =
  | { kind: 'match'; route: CompiledRoute<T>; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/** A set of routes, matched most-specific first. */
export class RouteTable<T> {
  private routes: CompiledRoute<T>[] = [];

  add(route: CompiledRoute<T>): void {
    this.routes.push(route);
    this.routes.sort((a, b) => compareRank(a.rank, b.rank));
  }

  get size(): number {
    return this.routes.length;
  }

  lookup(method: string, path: string): RouteLookup<T> {
    const allow = new Set<string>();
    let pathMatched = false;
    const m = method.toUpperCase();
    for (const route of this.routes) {
      const params = route.match(path);
      if (!params) continue;
      pathMatched = true;
      if (route.methods.size === 0 || route.methods.has(m)) return { kind: 'match', route, params };
      for (const x of route.methods) allow.add(x);
    }
    if (!pathMatched) return { kind: 'not-found' };
    return { kind: 'method-not-allowed', allow: [...allow].sort() };
  }
}
