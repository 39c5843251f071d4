/**
 * Reading an environment from a file, as `sluice environments publish` and `sluice publish` do: a
 * Sluice spec (YAML/JSON `{python, requirements, …}`), a conda environment.yml (`dependencies:` — its
 * python and pip parts), or a requirements.txt (one specifier a line). Pure over the file's text.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { pointer, type FieldProblem } from '../errors/problem';
import { fromConda, type EnvironmentSpec } from './spec';

export function specFromFileText(fileName: string, text: string): EnvironmentSpec {
  if (/\.txt$/i.test(fileName) || /(^|\/)requirements[^/]*$/i.test(fileName)) {
    const requirements = text
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean);
    const options = requirements.filter((l) => l.startsWith('-'));
    if (options.length)
      throw new Error(
        `${fileName}: pip options (${options.join(', ')}) are not taken from a file; use indexUrl/findLinks in a spec`,
      );
    return { requirements };
  }
  const value = parse(text) as unknown;
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(
      `${fileName} is not a mapping: give a spec {python, requirements} or a conda environment.yml`,
    );
  if ('dependencies' in value) return { conda: value as EnvironmentSpec['conda'] & object };
  return value as EnvironmentSpec;
}

/**
 * `sluice publish`: replaces each `environment.conda: FILE` (relative to the step's code directory, or
 * to the definition for the pipeline default) by the file's content, so that conda-only packages are
 * reported at publish, with pointers, and the server stores what was checked.
 */
export async function inlineCondaFiles(
  def: { environment?: unknown; steps: Record<string, { code?: string; environment?: unknown }> },
  base: string,
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  const one = async (env: unknown, dir: string, at: Array<string | number>): Promise<void> => {
    if (!env || typeof env !== 'object' || typeof (env as { conda?: unknown }).conda !== 'string') return;
    const e = env as { conda: unknown };
    const file = resolve(dir, e.conda as string);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      problems.push({ pointer: pointer([...at, 'conda']), message: `conda file ${file} does not exist` });
      return;
    }
    let value: unknown;
    try {
      value = parse(text);
    } catch (err) {
      problems.push({
        pointer: pointer([...at, 'conda']),
        message: `${file} is not YAML: ${(err as Error).message}`,
      });
      return;
    }
    const deps = (value as { dependencies?: unknown } | null)?.dependencies;
    if (!Array.isArray(deps)) {
      problems.push({ pointer: pointer([...at, 'conda']), message: `${file} has no dependencies: list` });
      return;
    }
    const c = fromConda({ dependencies: deps as Array<string | { pip?: string[] }> });
    for (const p of c.problems)
      problems.push({ pointer: pointer([...at, ...p.path]), message: `${file}: ${p.message}` });
    e.conda = { dependencies: deps };
  };
  await one(def.environment, base, ['environment']);
  for (const [name, step] of Object.entries(def.steps ?? {}))
    if (step && typeof step === 'object')
      await one(step.environment, typeof step.code === 'string' ? resolve(base, step.code) : base, [
        'steps',
        name,
        'environment',
      ]);
  return problems;
}
