import { canonicalJson, contentHash } from '../pipelines/canonical';
import { environmentChanges, type EnvironmentComponent } from '../environments/explain';
import { substitutePlain, substituteShell } from '../compute/shell-words';
import { scanPlaceholders } from '../pipelines/graph';

/**
 * The step cache key and its explanation. Pure: the dispatch activity gathers the facts (content hashes,
 * the pool's declared environment), these functions turn them into a key and into sentences.
 *
 * Everything that can change a step's outputs goes into the key, by content: input data by its sha256
 * (never by path or dataset name), code by its snapshot hash, the command after parameter substitution.
 * The components are stored next to the key so "why did this run?" is a diff, not a guess.
 */

export interface CacheComponents {
  /** Step kind (`command`, …). */
  kind: string;
  /** The command template as written (explains command edits apart from parameter changes). */
  template: string;
  /**
   * The command after `${{parameters.X}}` substitution, each value quoted for where it stands in the
   * shell command (shell-words.ts); `${{inputs.X}}`/`${{outputs.X}}` stay. For an `args:` step, the
   * argument list shown as `args [...]`.
   */
  command: string;
  /** An `args:` step's arguments after parameter substitution (run without a shell). */
  args?: string[];
  /** The values of the parameters the step references, by name. */
  parameters: Record<string, unknown>;
  /** Env after parameter substitution. */
  env: Record<string, string>;
  /** `snapshot:sha256:…` of the code (with `code.include`, the snapshot of the step's files alone), or null. */
  code: string | null;
  /** Input name → content hash (`sha256:…`) of the file or directory manifest. */
  inputs: Record<string, string>;
  /** Output name → type. */
  outputs: Record<string, string>;
  /** What the compute pool declares about its environment (image, node version, GPU…). */
  environment: unknown;
  /** The step's `environment:` (Python/Node packages); absent for steps without one. */
  packages?: EnvironmentComponent;
  /** Salt: `SLUICE_CACHE_VERSION`. */
  cacheVersion: string;
}

export { canonicalJson };

export function cacheKey(components: CacheComponents): string {
  return contentHash(components);
}

/** Parameter names a text references through `${{parameters.X}}`. */
export function referencedParameters(texts: string[]): string[] {
  const names = new Set<string>();
  for (const t of texts)
    for (const p of scanPlaceholders(t).placeholders) {
      const m = /^parameters\.(.+)$/.exec(p.expr);
      if (m) names.add(m[1]!);
    }
  return [...names].sort();
}

/** The value a parameter placeholder stands for: strings as they are, anything else as JSON. */
function parameterText(parameters: Record<string, unknown>): (expr: string) => string | undefined {
  return (expr) => {
    const m = /^parameters\.(.+)$/.exec(expr);
    if (!m || !(m[1]! in parameters)) return undefined;
    const v = parameters[m[1]!];
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
}

/**
 * Replaces `${{parameters.X}}` only; input and output placeholders are the agent's to fill. `shell`: the
 * text is a shell command, and each value becomes literal text wherever it stands (never shell syntax).
 */
export function substituteParameters(
  text: string,
  parameters: Record<string, unknown>,
  shell = false,
): string {
  const resolve = parameterText(parameters);
  return (shell ? substituteShell(text, resolve) : substitutePlain(text, resolve)).text;
}

export interface StepFacts {
  kind: string;
  command: string;
  /** An argument list run without a shell, instead of `command`. */
  args?: string[];
  env: Record<string, string>;
  parameters: Record<string, unknown>;
  code: string | null;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  environment: unknown;
  packages?: EnvironmentComponent;
  cacheVersion: string;
  /** Parameters the step's numeric fields take (`maxTotalTrials: ${{parameters.n}}`): keyed like the rest. */
  fieldParameters?: readonly string[];
}

export function buildComponents(f: StepFacts): CacheComponents {
  const envTemplates = Object.values(f.env);
  const used = [
    ...new Set([
      ...referencedParameters([f.command, ...(f.args ?? []), ...envTemplates]),
      ...(f.fieldParameters ?? []),
    ]),
  ];
  const parameters: Record<string, unknown> = {};
  for (const p of used) if (p in f.parameters) parameters[p] = f.parameters[p];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(f.env)) env[k] = substituteParameters(v, f.parameters);
  const args = f.args?.map((a) => substituteParameters(a, f.parameters));
  return {
    kind: f.kind,
    template: f.args ? `args ${JSON.stringify(f.args)}` : f.command,
    command: args ? `args ${JSON.stringify(args)}` : substituteParameters(f.command, f.parameters, true),
    ...(args ? { args } : {}),
    parameters,
    env,
    code: f.code,
    inputs: { ...f.inputs },
    outputs: { ...f.outputs },
    environment: f.environment ?? null,
    ...(f.packages ? { packages: f.packages } : {}),
    cacheVersion: f.cacheVersion,
  };
}

// ---------------------------------------------------------------- explanation

export interface CodeFileEntry {
  path: string;
  hash: string;
}

/** One changed component, in words: `parameter epochs: 3 → 5`. */
export interface ComponentChange {
  component:
    | 'kind'
    | 'command'
    | 'parameter'
    | 'env'
    | 'code'
    | 'input'
    | 'outputs'
    | 'environment'
    | 'packages'
    | 'cacheVersion';
  name?: string;
  from?: string;
  to?: string;
  message: string;
}

export function shortHash(hash: string | null | undefined): string {
  if (!hash) return 'none';
  const m = /^(snapshot:)?(sha256:)([0-9a-f]+)$/.exec(hash);
  return m ? `${m[2]}${m[3]!.slice(0, 12)}…` : hash;
}

const show = (v: unknown): string =>
  v === undefined ? '(unset)' : typeof v === 'string' ? v : canonicalJson(v);

/**
 * What changed between the latest earlier execution's components and this one's. `codeFiles` (the two
 * snapshots' file lists), when given, turn `code: changed` into `code: src/train.js changed`.
 */
export function diffComponents(
  before: CacheComponents,
  after: CacheComponents,
  codeFiles?: { before: CodeFileEntry[]; after: CodeFileEntry[] },
): ComponentChange[] {
  const out: ComponentChange[] = [];
  if (before.kind !== after.kind)
    out.push({
      component: 'kind',
      from: before.kind,
      to: after.kind,
      message: `kind: ${before.kind} → ${after.kind}`,
    });
  for (const name of union(before.parameters, after.parameters)) {
    const a = before.parameters?.[name];
    const b = after.parameters?.[name];
    if (canonicalJson(a) !== canonicalJson(b))
      out.push({
        component: 'parameter',
        name,
        from: show(a),
        to: show(b),
        message: `parameter ${name}: ${show(a)} → ${show(b)}`,
      });
  }
  if (before.template !== after.template)
    out.push({
      component: 'command',
      from: before.template,
      to: after.template,
      message: `command: \`${before.template}\` → \`${after.template}\``,
    });
  else if (before.command !== after.command && !out.some((c) => c.component === 'parameter'))
    out.push({
      component: 'command',
      from: before.command,
      to: after.command,
      message: `command: \`${before.command}\` → \`${after.command}\``,
    });
  for (const name of union(before.env, after.env)) {
    const a = before.env?.[name];
    const b = after.env?.[name];
    if (a !== b)
      out.push({
        component: 'env',
        name,
        from: show(a),
        to: show(b),
        message: `env ${name}: ${show(a)} → ${show(b)}`,
      });
  }
  if (before.code !== after.code) {
    const files = codeFiles ? changedFiles(codeFiles.before, codeFiles.after) : [];
    const message = files.length
      ? `code: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ` and ${files.length - 5} more` : ''} changed`
      : `code: ${shortHash(before.code)} → ${shortHash(after.code)}`;
    out.push({ component: 'code', from: before.code ?? undefined, to: after.code ?? undefined, message });
  }
  for (const name of union(before.inputs, after.inputs)) {
    const a = before.inputs?.[name];
    const b = after.inputs?.[name];
    if (a !== b)
      out.push({
        component: 'input',
        name,
        from: a,
        to: b,
        message:
          a === undefined
            ? `input ${name}: added`
            : b === undefined
              ? `input ${name}: removed`
              : `input ${name}: ${shortHash(a)} → ${shortHash(b)}`,
      });
  }
  if (canonicalJson(before.outputs) !== canonicalJson(after.outputs))
    out.push({
      component: 'outputs',
      from: canonicalJson(before.outputs),
      to: canonicalJson(after.outputs),
      message: `outputs: ${canonicalJson(before.outputs)} → ${canonicalJson(after.outputs)}`,
    });
  if (canonicalJson(before.environment) !== canonicalJson(after.environment))
    out.push({
      component: 'environment',
      from: canonicalJson(before.environment),
      to: canonicalJson(after.environment),
      message: `compute environment: ${canonicalJson(before.environment)} → ${canonicalJson(after.environment)}`,
    });
  if (canonicalJson(before.packages ?? null) !== canonicalJson(after.packages ?? null))
    out.push(...environmentChanges(before.packages, after.packages));
  if (before.cacheVersion !== after.cacheVersion)
    out.push({
      component: 'cacheVersion',
      from: before.cacheVersion,
      to: after.cacheVersion,
      message: `cache version: ${before.cacheVersion} → ${after.cacheVersion}`,
    });
  return out;
}

/** Paths added, removed or modified between two snapshot file lists, sorted. */
export function changedFiles(before: CodeFileEntry[], after: CodeFileEntry[]): string[] {
  const a = new Map(before.map((f) => [f.path, f.hash]));
  const b = new Map(after.map((f) => [f.path, f.hash]));
  const out: string[] = [];
  for (const [p, h] of b) if (a.get(p) !== h) out.push(a.has(p) ? p : `${p} (added)`);
  for (const p of a.keys()) if (!b.has(p)) out.push(`${p} (removed)`);
  return out.sort();
}

function union(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): string[] {
  return [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
}

/** Why a step ran or was reused: stored on the step, printed by `sluice explain`. */
export type CacheDecision =
  | { decision: 'reused'; reason: string; from: { runId: string; step: string } }
  | { decision: 'run'; reason: string; changes: ComponentChange[]; since?: string };

export function explainRun(
  opts:
    | { why: 'forced' }
    | { why: 'reuse-disabled' }
    | { why: 'no-earlier' }
    | { why: 'outputs-gone'; from: { runId: string; step: string }; missing: string[] }
    | { why: 'changed'; changes: ComponentChange[]; from: { runId: string } }
    | { why: 'same-key-failed' }
    | { why: 'retry'; attempt: number; failure: string },
): CacheDecision {
  switch (opts.why) {
    case 'forced':
      return { decision: 'run', reason: 'forceRerun was set on the run', changes: [] };
    case 'reuse-disabled':
      return { decision: 'run', reason: 'the step sets reuse: false', changes: [] };
    case 'no-earlier':
      return { decision: 'run', reason: 'no earlier execution of this step', changes: [] };
    case 'outputs-gone':
      return {
        decision: 'run',
        reason: `run ${opts.from.runId} step ${opts.from.step} matched, but its outputs are gone (${opts.missing.join(', ')})`,
        changes: [],
      };
    case 'changed':
      return {
        decision: 'run',
        reason:
          opts.changes.length === 0
            ? `run ${opts.from.runId} executed this step with the same components but did not succeed`
            : `changed since run ${opts.from.runId}: ${opts.changes.map((c) => c.message).join('; ')}`,
        changes: opts.changes,
        since: opts.from.runId,
      };
    case 'same-key-failed':
      return { decision: 'run', reason: 'no successful execution with this key', changes: [] };
    case 'retry':
      return { decision: 'run', reason: `attempt ${opts.attempt} after: ${opts.failure}`, changes: [] };
  }
}
