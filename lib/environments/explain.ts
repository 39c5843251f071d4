/**
 * "Why did this step run again?" for its environment: the change in words, package by package
 * (`environment: pandas 1.5.3 → 2.2.3`), from the cache-key components of two executions. Pure.
 */
import { packageChanges } from './spec';

/** The step's environment in its cache key: its hash decides, the rest explains. */
export interface EnvironmentComponent {
  /** sha256 of the normalised spec. */
  hash: string;
  /** `name@version` when it came from a named environment. */
  named?: string;
  python?: string;
  node?: string;
  /** Inline requirements: package → specifier (`==1.5.3`, `` for any). */
  packages?: Record<string, string>;
  /** A requirements file in the code snapshot (its content is covered by the code hash). */
  requirementsFile?: string;
  npm?: string;
}

export interface EnvironmentChange {
  component: 'packages';
  name?: string;
  from?: string;
  to?: string;
  message: string;
}

const short = (h: string): string => h.replace(/^sha256:/, '').slice(0, 12);

export function environmentChanges(
  before: EnvironmentComponent | undefined,
  after: EnvironmentComponent | undefined,
): EnvironmentChange[] {
  if (!before && !after) return [];
  if (!before)
    return [{ component: 'packages', to: after!.hash, message: `environment: added (${describe(after!)})` }];
  if (!after)
    return [
      { component: 'packages', from: before.hash, message: `environment: removed (was ${describe(before)})` },
    ];
  const out: EnvironmentChange[] = [];
  if (before.named !== after.named && (before.named || after.named))
    out.push({
      component: 'packages',
      name: 'named',
      from: before.named,
      to: after.named,
      message: `environment: ${before.named ?? 'inline'} → ${after.named ?? 'inline'}`,
    });
  if (before.python !== after.python)
    out.push({
      component: 'packages',
      name: 'python',
      from: before.python,
      to: after.python,
      message: `environment: python ${before.python ?? '(any)'} → ${after.python ?? '(any)'}`,
    });
  if (before.node !== after.node)
    out.push({
      component: 'packages',
      name: 'node',
      from: before.node,
      to: after.node,
      message: `environment: node ${before.node ?? '(any)'} → ${after.node ?? '(any)'}`,
    });
  for (const c of packageChanges(before.packages ?? {}, after.packages ?? {})) {
    const name = c.split(' ')[0]!;
    out.push({
      component: 'packages',
      name,
      from: before.packages?.[name],
      to: after.packages?.[name],
      message: `environment: ${c}`,
    });
  }
  if (before.requirementsFile !== after.requirementsFile)
    out.push({
      component: 'packages',
      from: before.requirementsFile,
      to: after.requirementsFile,
      message: `environment: requirements file ${before.requirementsFile ?? 'none'} → ${after.requirementsFile ?? 'none'}`,
    });
  if (out.length === 0 && before.hash !== after.hash)
    out.push({
      component: 'packages',
      from: before.hash,
      to: after.hash,
      message: `environment: ${short(before.hash)} → ${short(after.hash)} (index or install options)`,
    });
  return out;
}

function describe(c: EnvironmentComponent): string {
  const bits: string[] = [];
  if (c.named) bits.push(c.named);
  if (c.python) bits.push(`python ${c.python}`);
  if (c.packages)
    bits.push(
      Object.entries(c.packages)
        .map(([n, v]) => `${n}${v}`)
        .join(' '),
    );
  if (c.requirementsFile) bits.push(`-r ${c.requirementsFile}`);
  if (c.npm) bits.push('npm ci');
  return bits.join(', ') || short(c.hash);
}
