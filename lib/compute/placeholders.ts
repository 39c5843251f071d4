import { substitutePlain, substituteShell } from './shell-words';

/**
 * `${{inputs.X}}` / `${{outputs.X}}` in a job's command and env become the local paths the agent made.
 * Any other `${{ … }}` left at this point (parameters were substituted by lib/runs) is an error.
 */

export interface PlaceholderPaths {
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  /** parallelRun batch jobs: the file listing the mini-batch's paths (`${{minibatch}}`). */
  minibatch?: string;
}

export { shellQuote } from './shell-words';

/**
 * Replaces placeholders in `text`. `quote`: `text` is a shell command, and each path is quoted for where
 * it stands (shell-words.ts); otherwise (env values, argument lists) paths go in as they are.
 * Returns the text and the placeholders it could not resolve.
 */
export function substitute(
  text: string,
  paths: PlaceholderPaths,
  quote = false,
): { text: string; unknown: string[] } {
  const resolve = (expr: string): string | undefined => {
    const m = /^(inputs|outputs)\.([A-Za-z0-9_-]+)$/.exec(expr);
    return expr === 'minibatch'
      ? paths.minibatch
      : m
        ? paths[m[1] as 'inputs' | 'outputs'][m[2]!]
        : undefined;
  };
  return quote ? substituteShell(text, resolve) : substitutePlain(text, resolve);
}

/** A message naming every unresolved placeholder and what exists. */
export function unknownPlaceholderMessage(where: string, unknown: string[], paths: PlaceholderPaths): string {
  const names = [
    ...Object.keys(paths.inputs).map((n) => `inputs.${n}`),
    ...Object.keys(paths.outputs).map((n) => `outputs.${n}`),
  ];
  return (
    `The ${where} refers to ${unknown.join(', ')}, which this job does not have. ` +
    `Known: ${names.length ? names.map((n) => '${{' + n + '}}').join(', ') : 'none'}. ` +
    `Declare the input or output on the step, or fix the name.`
  );
}
