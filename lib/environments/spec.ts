import { canonicalJson, contentHash } from '../pipelines/canonical';
import { z } from 'zod';

/**
 * What a step's `environment:` says, in one zod schema (the pipeline schema embeds it, named
 * environments store it), and the pure functions over it: normalising (a conda YAML becomes its Python
 * version and pip list), the canonical hash, and version-constraint matching. No I/O here.
 */

/** `churn-env@2` or `churn-env@latest`: a named environment in the store. */
export const ENVIRONMENT_REF_RE = /^([a-z0-9][a-z0-9._-]{0,62})@(latest|[1-9][0-9]*)$/;
export const ENVIRONMENT_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** `3.11`, `3.11.7`, `>=3.10,<3.13`, `~=3.11`, `!=3.12.0`: comma-separated clauses, all must hold. */
const CONSTRAINT_RE =
  /^\s*(?:(==|>=|<=|>|<|!=|~=)?\s*\d+(?:\.\d+){0,2}(?:\.\*)?\s*)(?:,\s*(?:(==|>=|<=|>|<|!=|~=)?\s*\d+(?:\.\d+){0,2}(?:\.\*)?\s*))*$/;

const constraint = (what: string) =>
  z.string().regex(CONSTRAINT_RE, {
    error: `a ${what} version is a number such as 3.11 or a constraint such as ">=3.10,<3.13"`,
  });

/** A requirement line as pip reads it; options (`-e`, `--index-url`) have fields of their own. */
const requirement = z
  .string()
  .min(1)
  .max(500)
  .refine((s) => !/^\s*-/.test(s) && !/[\r\n]/.test(s), {
    error:
      'a requirement is one package specifier such as "pandas==1.5.3"; pip options have their own fields',
  });

const CondaSchema = z
  .looseObject({
    name: z.string().optional(),
    channels: z.array(z.string()).optional(),
    dependencies: z.array(z.union([z.string(), z.looseObject({ pip: z.array(z.string()).optional() })])),
  })
  .meta({ description: 'A conda environment.yml as an object: its python and pip: parts are used.' });

export const EnvironmentSpecSchema = z
  .strictObject({
    python: constraint('Python').optional().meta({ description: 'Python version or constraint, e.g. 3.11.' }),
    requirements: z
      .union([z.array(requirement).max(500), z.string().min(1).max(300)])
      .optional()
      .meta({
        description:
          'Packages: a list of pip specifiers, or a requirements.txt / pyproject.toml path in the code snapshot.',
      }),
    conda: z
      .union([z.string().min(1).max(300), CondaSchema])
      .optional()
      .meta({
        description:
          'A conda environment.yml (a path in the code, inlined by `sluice publish`): only python and pip: are used.',
      }),
    indexUrl: z.url().optional().meta({ description: 'pip --index-url (a mirror of PyPI).' }),
    extraIndexUrls: z.array(z.url()).max(10).optional(),
    findLinks: z.array(z.string().min(1).max(1000)).max(10).optional().meta({
      description: 'pip --find-links: URLs or directories (relative ones are in the code snapshot).',
    }),
    noIndex: z.boolean().optional().meta({ description: 'pip --no-index: only findLinks are used.' }),
    node: constraint('Node').optional().meta({ description: 'Node version the step needs, e.g. 20.' }),
    npm: z
      .union([z.boolean(), z.string().min(1).max(300)])
      .optional()
      .meta({
        description:
          'Install node_modules with `npm ci` from package.json + package-lock.json: true for the code root, or a directory in it.',
      }),
  })
  .meta({ description: 'What a step needs installed: Python packages or Node modules.' });

export type EnvironmentSpec = z.output<typeof EnvironmentSpecSchema>;

/** `environment:` on a step or a pipeline: a spec, or a reference to a named one. */
export const EnvironmentFieldSchema = z
  .union([
    z.string().regex(ENVIRONMENT_REF_RE, {
      error: 'a named environment is name@version or name@latest, e.g. churn-env@2',
    }),
    EnvironmentSpecSchema,
  ])
  .meta({
    description:
      'The step environment: { python, requirements, … } or a named environment name@version|latest.',
  });
export type EnvironmentField = z.output<typeof EnvironmentFieldSchema>;

/** A spec reduced to what builds it: conda folded into python + requirements, defaults dropped. */
export interface NormalizedSpec {
  python?: string;
  /** Inline specifiers, or `{file}` in the code snapshot. */
  requirements?: string[] | { file: string };
  indexUrl?: string;
  extraIndexUrls?: string[];
  findLinks?: string[];
  noIndex?: boolean;
  node?: string;
  /** Directory (relative to the code root) holding package.json and package-lock.json. */
  npm?: string;
  /** A conda environment.yml in the code snapshot, folded in by the agent (its python and pip parts). */
  condaFile?: string;
}

export interface SpecProblem {
  /** Relative JSON pointer segments below the `environment` field. */
  path: Array<string | number>;
  message: string;
}

/** The python and pip parts of a conda spec, and a problem per conda package that is not python/pip. */
export function fromConda(conda: z.output<typeof CondaSchema>): {
  python?: string;
  pip: string[];
  problems: SpecProblem[];
} {
  let python: string | undefined;
  const pip: string[] = [];
  const condaOnly: string[] = [];
  conda.dependencies.forEach((d) => {
    if (typeof d !== 'string') {
      pip.push(...(d.pip ?? []));
      return;
    }
    const m = /^\s*([A-Za-z0-9_.-]+)\s*(?:(==|=|>=|<=|>|<)?\s*([0-9][0-9.*]*))?\s*$/.exec(d);
    const name = m?.[1]?.toLowerCase();
    if (name === 'pip') return;
    if (name === 'python' && m) {
      const op = m[2] === '=' || !m[2] ? '' : m[2];
      if (m[3]) python = `${op}${m[3].replace(/\.\*$/, '')}`;
      return;
    }
    condaOnly.push(d.trim());
  });
  const problems: SpecProblem[] = condaOnly.length
    ? [
        {
          path: ['conda', 'dependencies'],
          message:
            `conda packages cannot be installed: Sluice builds Python environments with pip/uv, not conda ` +
            `(${condaOnly.join(', ')}). Move them under "pip:" (most have the same name on PyPI), or use requirements.`,
        },
      ]
    : [];
  return { ...(python ? { python } : {}), pip, problems };
}

/** Normalises a spec; problems (conda packages, conflicting fields) are returned, not thrown. */
export function normalizeSpec(spec: EnvironmentSpec): { spec: NormalizedSpec; problems: SpecProblem[] } {
  const problems: SpecProblem[] = [];
  const out: NormalizedSpec = {};
  let python = spec.python;
  let reqs: NormalizedSpec['requirements'] =
    spec.requirements === undefined
      ? undefined
      : typeof spec.requirements === 'string'
        ? { file: spec.requirements }
        : [...spec.requirements];
  if (spec.conda !== undefined) {
    if (typeof spec.conda === 'string') {
      // Read by the agent from the code snapshot (`sluice publish` inlines it, so it is checked at publish).
      if (spec.conda.startsWith('/') || spec.conda.split('/').includes('..'))
        problems.push({ path: ['conda'], message: 'a conda file is a path inside the code snapshot' });
      out.condaFile = spec.conda;
    } else {
      const c = fromConda(spec.conda);
      problems.push(...c.problems);
      if (c.python && python && c.python !== python)
        problems.push({
          path: ['conda'],
          message: `conda says python ${c.python} but python says ${python}; keep one`,
        });
      python ??= c.python;
      if (c.pip.length) {
        if (reqs && !Array.isArray(reqs))
          problems.push({
            path: ['conda'],
            message: 'conda pip: packages and a requirements file: keep one',
          });
        else reqs = [...(reqs ?? []), ...c.pip];
      }
    }
  }
  if (python) out.python = python.replace(/\s+/g, '');
  if (reqs && (!Array.isArray(reqs) || reqs.length)) out.requirements = reqs;
  if (spec.indexUrl) out.indexUrl = spec.indexUrl;
  if (spec.extraIndexUrls?.length) out.extraIndexUrls = spec.extraIndexUrls;
  if (spec.findLinks?.length) out.findLinks = spec.findLinks;
  if (spec.noIndex) out.noIndex = true;
  if (spec.node) out.node = spec.node.replace(/\s+/g, '');
  if (spec.npm) out.npm = spec.npm === true ? '.' : spec.npm;
  if (spec.npm && spec.npm !== true && (spec.npm.startsWith('/') || spec.npm.split('/').includes('..')))
    problems.push({
      path: ['npm'],
      message: 'npm is a directory inside the code snapshot (no "/" start, no "..")',
    });
  if (
    typeof spec.requirements === 'string' &&
    (spec.requirements.startsWith('/') || spec.requirements.split('/').includes('..'))
  )
    problems.push({
      path: ['requirements'],
      message: 'a requirements file is a path inside the code snapshot',
    });
  const wantsPython = isPython(out);
  if (!wantsPython && !out.node && !out.npm)
    problems.push({ path: [], message: 'an environment names python and/or requirements, or node/npm' });
  return { spec: out, problems };
}

/** True when the spec builds a Python virtual environment. */
export const isPython = (s: NormalizedSpec): boolean =>
  s.python !== undefined || s.requirements !== undefined || s.condaFile !== undefined;

export { canonicalJson };

/** `sha256:<hex>` of the normalised spec: the identity the cache key and named versions use. */
export function specHash(spec: NormalizedSpec): string {
  return contentHash(spec);
}

// ---------------------------------------------------------------- versions

function parts(v: string): number[] {
  return v.split('.').map((p) => Number(p));
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * Whether `version` (e.g. `3.11.7`, `v20.20.2`) satisfies a constraint such as `3.11` (any 3.11.x),
 * `>=3.10,<3.13`, `~=3.11` (>=3.11,<4) or `!=3.12`.
 */
export function satisfies(version: string, constraintText: string): boolean {
  const v = parts(version.replace(/^v/, '').split(/[^0-9.]/)[0]!);
  return constraintText
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .every((clause) => {
      const m = /^(==|>=|<=|>|<|!=|~=)?\s*([0-9.]+?)(\.\*)?$/.exec(clause);
      if (!m) return false;
      const want = parts(m[2]!);
      const prefix = (): boolean => want.every((n, i) => v[i] === n);
      switch (m[1]) {
        case undefined:
        case '==':
          return prefix();
        case '!=':
          return !prefix();
        case '>=':
          return cmp(v, want) >= 0;
        case '<=':
          return cmp(v, want) <= 0 || prefix();
        case '>':
          return cmp(v, want) > 0 && !prefix();
        case '<':
          return cmp(v, want) < 0;
        case '~=': {
          const upper = want.length > 1 ? [...want.slice(0, -2), want[want.length - 2]! + 1] : [want[0]! + 1];
          return cmp(v, want) >= 0 && cmp(v, upper) < 0;
        }
        default:
          return false;
      }
    });
}

// ---------------------------------------------------------------- package pins, for explain

/** `pandas==1.5.3` → ['pandas', '==1.5.3']; names normalised as pip does (PEP 503). */
export function splitRequirement(req: string): [string, string] {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/.exec(req);
  if (!m) return [req.trim(), ''];
  return [m[1]!.toLowerCase().replace(/[-_.]+/g, '-'), `${m[2] ?? ''}${m[3]!.trim()}`];
}

/** Package → specifier (`==1.5.3`, `>=2`, `` for any) for the inline requirements of a spec. */
export function packagePins(spec: NormalizedSpec): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(spec.requirements))
    for (const r of spec.requirements) {
      const [name, pin] = splitRequirement(r);
      out[name] = pin;
    }
  return out;
}

/** Lock lines `name==version` → map (lower-case names). */
export function lockMap(lock: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lock) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(.+)$/.exec(line.trim());
    if (m) out[m[1]!.toLowerCase().replace(/[-_.]+/g, '-')] = m[2]!;
  }
  return out;
}

/** `pandas 1.5.3 → 2.2.3`, `scikit-learn added`, …: what differs between two package maps. */
export function packageChanges(before: Record<string, string>, after: Record<string, string>): string[] {
  const show = (v: string): string => (v === '' ? '(any version)' : v.replace(/^==/, ''));
  const out: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = before[name];
    const b = after[name];
    if (a === b) continue;
    if (a === undefined) out.push(`${name} ${show(b!)} added`);
    else if (b === undefined) out.push(`${name} ${show(a)} removed`);
    else out.push(`${name} ${show(a)} → ${show(b)}`);
  }
  return out;
}
