/**
 * The parts of running a job that touch only the local machine and need no storage client, so the shard
 * driver (a small process per parallelRun shard, shard-driver.ts) uses them as the runner does:
 * placeholder substitution (never a shell with the values), the output contract, local file names.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { JobOutcome } from './failures';
import type { JobSpec } from './job';
import { substitute, type PlaceholderPaths } from './placeholders';

/** A name safe as one local file or folder name (outputs, job folders). */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
}

/** The command (or argument list) and env with the placeholders replaced by `paths`. */
export function substituteJob(
  spec: Pick<JobSpec, 'command' | 'args' | 'env'>,
  paths: PlaceholderPaths,
): { command: string; argv?: string[]; env: Record<string, string>; unknown: string[] } {
  const cmd = substitute(spec.command, paths, true);
  // An argument list runs without a shell: each element is one argument, paths put in as they are.
  const args = spec.args?.map((a) => substitute(a, paths));
  const unknown = args ? args.flatMap((a) => a.unknown) : [...cmd.unknown];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.env ?? {})) {
    const s = substitute(String(v), paths);
    env[k] = s.text;
    unknown.push(...s.unknown);
  }
  return { command: cmd.text, ...(args ? { argv: args.map((a) => a.text) } : {}), env, unknown };
}

/** The output contract: every declared output written, with its declared type. */
export function checkOutputs(spec: JobSpec, outputsDir: string): JobOutcome | undefined {
  const problems: string[] = [];
  for (const o of spec.outputs) {
    const p = join(outputsDir, safeName(o.name));
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st)
      problems.push(
        `output "${o.name}" (${o.type}) was not written; the command must create ${p} (\${{outputs.${o.name}}})`,
      );
    else if (o.type === 'file' && !st.isFile())
      problems.push(`output "${o.name}" must be a file, but ${p} is a directory`);
    else if (o.type === 'directory' && !st.isDirectory())
      problems.push(`output "${o.name}" must be a directory, but ${p} is a file`);
  }
  if (!problems.length) return undefined;
  return {
    kind: 'missing-output',
    message: `The command exited 0 but broke its output contract: ${problems.join('; ')}.`,
  };
}
