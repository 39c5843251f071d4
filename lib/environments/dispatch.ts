/**
 * What the run engine does with a step's environment when it dispatches the step, in one call:
 * resolve a named reference, normalise, check that some agent of the pool can build it, and give the
 * cache-key component (spec hash + the packages by name, so `explain` can say `pandas 1.5.3 → 2.2.3`).
 */
import { poolCannotBuild, poolReports, type AgentReport } from './agents';
import { resolveEnvironmentRef } from './store';
import type { EnvironmentComponent } from './explain';
import {
  normalizeSpec,
  packagePins,
  specHash,
  type EnvironmentField,
  type EnvironmentSpec,
  type NormalizedSpec,
} from './spec';

export type DispatchEnvironment =
  { ok: true; spec?: NormalizedSpec; component?: EnvironmentComponent } | { ok: false; message: string };

export interface DispatchDeps {
  resolveRef(ref: string): Promise<{ name: string; version: number; spec: EnvironmentSpec }>;
  reports(pool: string): Promise<AgentReport[]>;
}

const defaultDeps: DispatchDeps = { resolveRef: resolveEnvironmentRef, reports: poolReports };

export async function environmentForDispatch(
  field: EnvironmentField | undefined,
  pool: string,
  deps: DispatchDeps = defaultDeps,
): Promise<DispatchEnvironment> {
  if (field === undefined) return { ok: true };
  let raw = field;
  let named: string | undefined;
  if (typeof field === 'string') {
    try {
      const v = await deps.resolveRef(field);
      raw = v.spec;
      named = `${v.name}@${v.version}`;
    } catch (e) {
      return {
        ok: false,
        message: `The step's environment ${field} cannot be resolved: ${(e as Error).message}`,
      };
    }
  }
  const { spec, problems } = normalizeSpec(raw as Exclude<EnvironmentField, string>);
  if (problems.length)
    return {
      ok: false,
      message: `The step's environment is invalid: ${problems.map((p) => p.message).join('; ')}`,
    };
  const reports = await deps.reports(pool).catch(() => []);
  const why = poolCannotBuild(reports, spec, pool);
  if (why) return { ok: false, message: why };
  const component: EnvironmentComponent = { hash: specHash(spec) };
  if (named) component.named = named;
  if (spec.python) component.python = spec.python;
  if (spec.node) component.node = spec.node;
  if (Array.isArray(spec.requirements)) component.packages = packagePins(spec);
  else if (spec.requirements) component.requirementsFile = spec.requirements.file;
  if (spec.npm) component.npm = spec.npm;
  return { ok: true, spec, component };
}
