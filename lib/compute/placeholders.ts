/**
 * `${{inputs.X}}` / `${{outputs.X}}` in a job's command and env become the local paths the agent made.
 * Any other `${{ … }}` left at this point (parameters were substituted by lib/runs) is an error.
 */

const PLACEHOLDER = /\$\{\{\s*([^}]*?)\s*\}\}/g;
const SAFE_WORD = /^[A-Za-z0-9_./:@%+=,-]+$/;

export interface PlaceholderPaths {
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  /** parallelRun batch jobs: the file listing the mini-batch's paths (`${{minibatch}}`). */
  minibatch?: string;
}

/** POSIX shell single-quoting, only when needed (paths under a plain work dir need none). */
export function shellQuote(s: string): string {
  return SAFE_WORD.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Replaces placeholders in `text`. `quote` quotes paths for a shell command (not for env values).
 * Returns the text and the placeholders it could not resolve.
 */
export function substitute(
  text: string,
  paths: PlaceholderPaths,
  quote = false,
): { text: string; unknown: string[] } {
  const unknown: string[] = [];
  const out = text.replace(PLACEHOLDER, (whole, expr: string) => {
    const m = /^(inputs|outputs)\.([A-Za-z0-9_-]+)$/.exec(expr);
    const p =
      expr === 'minibatch' ? paths.minibatch : m ? paths[m[1] as 'inputs' | 'outputs'][m[2]!] : undefined;
    if (p === undefined) {
      unknown.push(whole);
      return whole;
    }
    return quote ? shellQuote(p) : p;
  });
  return { text: out, unknown };
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
