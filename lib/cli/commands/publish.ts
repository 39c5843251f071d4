import { inlineCondaFiles } from '../../environments/file';
import { readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { ApiClient, ApiError } from '../api-client';
import { SNAPSHOT_REF_RE } from '../../pipelines/schema';
import { positionOf, type SourcePosition } from '../../pipelines/source';
import { validateDefinitionText } from '../../pipelines/validate';
import { packDirectory } from '../../snapshots/pack';
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
  const problems: Problem[] = local.ok ? [] : [...local.errors];
  for (const [stepName, step] of Object.entries(typeof steps === 'object' && steps ? steps : {})) {
    const code = (step as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || SNAPSHOT_REF_RE.test(code)) continue;
    const dir = resolve(base, code);
    const st = await stat(dir).catch(() => undefined);
    if (st?.isDirectory()) dirs.set(dir, code);
    else
      problems.push({
        pointer: pointer(['steps', stepName, 'code']),
        message: `code "${code}" is not a directory (looked for ${dir}); code is a directory relative to ${shown}.`,
      });
  }
  const value = structuredClone(local.value) as { name: string; steps: Record<string, { code?: string }> };
  if (local.ok) problems.push(...(await inlineCondaFiles(value, base)));
  if (problems.length) fail(problems);

  // Pack and upload each distinct code directory once, then point the steps at the snapshots.
  const refs = new Map<string, string>();
  for (const [dir, code] of dirs) {
    const packed = await packDirectory(dir);
    if (dryRun) {
      io.err(`would pack ${code}: ${packed.files.length} files, ${packed.bytes} bytes`);
      continue;
    }
    const res = await client.json<{ ref: string; files: number; bytes: number; created: boolean }>(
      '/snapshots',
      {
        method: 'POST',
        headers: { 'content-type': 'application/gzip' },
        body: new Uint8Array(packed.archive),
      },
    );
    io.err(
      `packed ${code}: ${res.files} files, ${res.bytes} bytes → ${res.ref.slice(0, 30)}… ${res.created ? '(uploaded)' : '(already stored)'}`,
    );
    refs.set(dir, res.ref);
  }
  for (const step of Object.values(value.steps)) {
    if (typeof step.code !== 'string' || SNAPSHOT_REF_RE.test(step.code)) continue;
    const ref = refs.get(resolve(base, step.code));
    if (ref) step.code = ref;
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
