/**
 * A build that fails is the user's to fix (a pin that does not exist, a conflict), not a transient
 * fault: EnvironmentError carries a message naming the package and the resolver's reason, and the agent
 * reports it as failure code `environment`, which lib/runs does not retry.
 */
export class EnvironmentError extends Error {
  /** The package the resolver named, when it named one. */
  readonly package?: string;
  constructor(message: string, pkg?: string) {
    super(message);
    this.name = 'EnvironmentError';
    if (pkg) this.package = pkg;
  }
}

const PIP_PATTERNS: RegExp[] = [
  /No matching distribution found for ([^\s;]+)/,
  /Could not find a version that satisfies the requirement ([^\s;]+)/,
  /ResolutionImpossible|conflicting dependencies/,
];

/**
 * The resolver's reason from a build's last output lines: uv's `× …` / `╰─▶ …` block, or pip's
 * `ERROR:` lines; npm's `npm error` lines. Falls back to the last lines when none matches.
 */
export function explainBuildFailure(lines: string[], exitMessage: string): EnvironmentError {
  const clean = lines.map((l) => l.replace(/\u001b\[[0-9;]*m/g, '').trimEnd());
  let reason: string[] = [];
  const uvStart = clean.findIndex((l) => /^\s*×/.test(l));
  if (uvStart >= 0)
    reason = clean
      .slice(uvStart)
      .filter((l) => l.trim() && !/^\s*help:/.test(l))
      .map((l) => l.replace(/^[\s×╰─▶│]+/u, '').trim());
  else {
    reason = clean.filter((l) => /^(ERROR|npm (ERR!|error))/.test(l.trim())).map((l) => l.trim());
  }
  if (reason.length === 0) reason = clean.slice(-5).map((l) => l.trim());
  const text = reason.join(' ');
  let pkg: string | undefined;
  for (const re of PIP_PATTERNS) {
    const m = re.exec(text);
    if (m?.[1]) {
      pkg = m[1];
      break;
    }
  }
  for (const re of [
    /no (?:matching )?versions? of `?([A-Za-z0-9][A-Za-z0-9_.-]*(?:[=<>!~]=?[^\s`,]+)?)/,
    /Because `?([A-Za-z0-9][A-Za-z0-9_.-]*(?:[=<>!~]=?[^\s`,]+)?)`? (?:depends|was not found|has no)/,
    /package `?([A-Za-z0-9][A-Za-z0-9_.-]*)/,
  ])
    pkg ??= re.exec(text)?.[1];
  pkg ??= /(?:404 Not Found|notarget|No matching version found for) .*?([@A-Za-z0-9][\w./@-]*)/.exec(
    text,
  )?.[1];
  const short = reason.slice(0, 8).join(' | ').slice(0, 1500);
  return new EnvironmentError(
    `Building the step's environment failed${pkg ? ` at ${pkg}` : ''}: ${short || exitMessage}. ` +
      'Fix the requirement (a version that exists for this Python and platform, or pins that do not conflict) and run again; the full output is in the step log.',
    pkg,
  );
}
