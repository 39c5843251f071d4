import { inlineCondaFiles } from '../../environments/file';
import { readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { ApiClient, ApiError } from '../api-client';
import { SNAPSHOT_REF_RE } from '../../pipelines/formats';
import { positionOf, type SourcePosition } from '../../pipelines/source';
import { validateDefinitionText } from '../../pipelines/validate';
import { packDirectory, type PackedDirectory } from '../../snapshots/pack';
import { selectIncluded, unmatchedMessage } from '../../snapshots/include';
import { pointer } from '../../errors/problem';

/**
 * `sluice publish FILE`: validate locally (problems as file:line:col), pack and upload each step's
 * `code` directory as a snapshot, publish, print `name@version`.
 */

export interface Problem {
  pointer: string;
  message: string;
  line?: number;
  col?: number;
}

/** `file:line:col: message` lines, in source order. */
export function formatProblems(
  file: string,
  problems: Problem[],
  positions: Map<string, SourcePosition>,
): string[] {
  return problems
    .map((p) => {
      const pos =
        p.line !== undefined && p.col !== undefined
          ? { line: p.line, col: p.col }
          : positionOf(positions, p.pointer, /^Unknown field/.test(p.message));
      return {
        pos,
        text: `${file}:${pos.line}:${pos.col}: ${p.message}${p.pointer ? ` [${p.pointer}]` : ''}`,
      };
    })
    .sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col)
    .map((x) => x.text);
}

export class PublishFailed extends Error {}

/** A step's `code` as written: a directory, or `{ path, include }`; undefined when neither. */
function codeSpec(code: unknown): { path: string; include?: string[] } | undefined {
  if (typeof code === 'string') return { path: code };
  if (typeof code !== 'object' || code === null) return undefined;
  const { path, include } = code as { path?: unknown; include?: unknown };
  if (typeof path !== 'string') return undefined;
  const list =
    Array.isArray(include) && include.every((p) => typeof p === 'string') ? (include as string[]) : undefined;
  return { path, ...(list ? { include: list } : {}) };
}

export interface PublishOutcome {
  name: string;
  version: number;
  created: boolean;
}

const STDIO = {
  log: (s: string) => process.stdout.write(s + '\n'),
  err: (s: string) => process.stderr.write(s + '\n'),
};

/** The whole publish, for the command and for tests. Writes progress to `log`, problems to `err`. */
export async function publishFile(
  file: string,
  client: ApiClient,
  io: { log: (s: string) => void; err: (s: string) => void } = STDIO,
): Promise<PublishOutcome> {
  return (await run(file, client, io, false)) as PublishOutcome;
}

/**
 * Validates a file and uploads its code snapshots, publishing nothing: the definition with snapshot
 * references, for a draft run (`sluice run FILE.yaml`). Problems go to `err` as a publish reports them.
 */
export async function packFile(
  file: string,
  client: ApiClient,
  io: { log: (s: string) => void; err: (s: string) => void } = STDIO,
): Promise<{ definition: Record<string, unknown> }> {
  return (await run(file, client, io, false, true)) as { definition: Record<string, unknown> };
}

/** `--dry-run`: validate the file and check its code directories; upload and publish nothing. */
export async function checkFile(
  file: string,
  io: { log: (s: string) => void; err: (s: string) => void } = STDIO,
): Promise<void> {
  await run(file, new ApiClient(), io, true);
}

async function run(
  file: string,
  client: ApiClient,
  io: { log: (s: string) => void; err: (s: string) => void },
  dryRun: boolean,
  packOnly = false,
): Promise<PublishOutcome | { definition: Record<string, unknown> } | undefined> {
  const shown = relative(process.cwd(), file) || file;
  const text = await readFile(file, 'utf8');
  const local = validateDefinitionText(text);
  const fail = (problems: Problem[]): never => {
    for (const line of formatProblems(shown, problems, local.positions)) io.err(line);
    io.err(`${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was published.`);
    throw new PublishFailed(`${shown} is not a valid pipeline`);
  };
  const steps = (
    local.value && typeof local.value === 'object' && !Array.isArray(local.value)
      ? ((local.value as { steps?: unknown }).steps ?? {})
      : {}
  ) as Record<string, unknown>;

  // Every code directory must exist; reported together with the definition's own problems.
  const base = dirname(resolve(file));
  const dirs = new Map<string, string>(); // directory → code as written
  const includes: Array<{ step: string; dir: string; include: string[] }> = [];
  const problems: Problem[] = local.ok ? [] : [...local.errors];
  for (const [stepName, step] of Object.entries(typeof steps === 'object' && steps ? steps : {})) {
    const spec = codeSpec((step as { code?: unknown } | null)?.code);
    if (!spec || SNAPSHOT_REF_RE.test(spec.path)) continue;
    const dir = resolve(base, spec.path);
    const st = await stat(dir).catch(() => undefined);
    if (st?.isDirectory()) {
      dirs.set(dir, spec.path);
      if (spec.include) includes.push({ step: stepName, dir, include: spec.include });
    } else
      problems.push({
        pointer: pointer(['steps', stepName, 'code', ...(spec.include ? ['path'] : [])]),
        message: `code "${spec.path}" is not a directory (looked for ${dir}); code is a directory relative to ${shown}.`,
      });
  }
  const value = structuredClone(local.value) as { name: string; steps: Record<string, { code?: unknown }> };
  if (local.ok) {
    // Conda files are relative to the step's directory, whichever form `code` takes (the environment
    // objects are shared, so the inlined content lands in `value`).
    const dirsOnly = Object.fromEntries(
      Object.entries(value.steps).map(([n, st]) => [n, { ...st, code: codeSpec(st.code)?.path }]),
    );
    problems.push(...(await inlineCondaFiles({ ...value, steps: dirsOnly }, base)));
  }

  // Pack each distinct directory once (locally), and check each step's include against its files
  // before anything is uploaded; the server checks again against the snapshot it stores.
  const packed = new Map<string, PackedDirectory>();
  for (const dir of dirs.keys()) packed.set(dir, await packDirectory(dir));
  for (const { step, dir, include } of includes) {
    const { files, links } = packed.get(dir)!;
    const sel = selectIncluded(files, include, links);
    for (const i of sel.unmatched)
      problems.push({
        pointer: pointer(['steps', step, 'code', 'include', i]),
        message: unmatchedMessage(include[i]!, dirs.get(dir)!, files),
      });
    if (!sel.invalid.length && !sel.unmatched.length)
      io.err(
        `step ${step}: ${sel.kept.length} of ${files.length} files of ${dirs.get(dir)} (${sel.kept.join(', ')})`,
      );
  }
  if (problems.length) fail(problems);

  // Upload each distinct code directory once, then point the steps at the snapshots.
  const refs = new Map<string, string>();
  for (const [dir, code] of dirs) {
    const pack = packed.get(dir)!;
    if (dryRun) {
      io.err(`would pack ${code}: ${pack.files.length} files, ${pack.bytes} bytes`);
      continue;
    }
    const res = await client.json<{ ref: string; files: number; bytes: number; created: boolean }>(
      '/snapshots',
      {
        method: 'POST',
        headers: { 'content-type': 'application/gzip' },
        body: new Uint8Array(pack.archive),
      },
    );
    io.err(
      `packed ${code}: ${res.files} files, ${res.bytes} bytes → ${res.ref.slice(0, 30)}… ${res.created ? '(uploaded)' : '(already stored)'}`,
    );
    refs.set(dir, res.ref);
  }
  // A plain `code:` becomes the snapshot; `{ path, include }` keeps its include, which the server turns
  // into the snapshot of the included files.
  for (const step of Object.values(value.steps)) {
    const spec = codeSpec(step.code);
    if (!spec || SNAPSHOT_REF_RE.test(spec.path)) continue;
    const ref = refs.get(resolve(base, spec.path));
    if (ref) step.code = spec.include ? { ...(step.code as object), path: ref } : ref;
  }
  if (dryRun) {
    io.log(`${value.name}: valid (nothing was uploaded or published)`);
    return undefined;
  }
  if (packOnly) return { definition: value };

  try {
    const res = await client.post<{
      name: string;
      version: number;
      created: boolean;
      warnings?: Problem[];
    }>('/pipelines', value);
    for (const line of formatProblems(shown, res.warnings ?? [], local.positions)) io.err(`warning: ${line}`);
    io.log(`${res.name}@${res.version}${res.created ? '' : ' unchanged'}`);
    return { name: res.name, version: res.version, created: res.created };
  } catch (e) {
    if (e instanceof ApiError && e.problem.errors?.length) fail(e.problem.errors);
    throw e;
  }
}

export function register(program: Command): void {
  program
    .command('publish')
    .description('Validate a pipeline file, upload its code snapshots and publish it as the next version')
    .argument('<file>', 'pipeline definition (YAML or JSON)')
    .option('--dry-run', 'validate and check code directories only; upload and publish nothing')
    .action(async (file: string, opts: { dryRun?: boolean }, cmd: Command) => {
      try {
        if (opts.dryRun) await checkFile(resolve(file));
        else await publishFile(resolve(file), ApiClient.fromCommand(cmd));
      } catch (e) {
        if (e instanceof PublishFailed) {
          process.exitCode = 1;
          return;
        }
        throw e;
      }
    });
}
