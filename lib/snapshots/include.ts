import { posix } from 'node:path';
import { Minimatch } from 'minimatch';

/**
 * `code: { path, include }`: which files of a code directory belong to a step. Pure (no I/O): the CLI
 * checks a packed directory with it before uploading, and the server narrows an uploaded snapshot with
 * it at publish and at a draft run (lib/pipelines/code-include.ts).
 *
 * Patterns are globs (minimatch) relative to the code directory, `/`-separated, dotfiles included. A
 * pattern that names a directory (`common` or `common/`) keeps everything under it, as in .gitignore.
 * A file is kept when any pattern matches it, and so is what a kept symlink points to. A pattern is
 * refused when it cannot mean a file inside the directory (empty, absolute, `..`, a backslash), when it
 * would exclude (`!x`: exclusions belong in .sluiceignore, which the whole directory honours), or when a
 * `[`, `{` or `(` is never closed (a typo that minimatch would otherwise match literally).
 */

/** Why an include pattern is not valid, or undefined when it is. */
export function includePatternProblem(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'is empty';
  if (pattern.includes('\0')) return 'contains a NUL character';
  if (pattern.includes('\\')) return 'contains a backslash; patterns use "/" between directories';
  if (pattern.startsWith('/') || /^[A-Za-z]:/.test(pattern))
    return 'is absolute; patterns are relative to the code directory';
  if (pattern.split('/').includes('..')) return 'climbs out of the code directory with ".."';
  if (pattern.startsWith('!'))
    return 'excludes files; include lists the files a step uses (leave files out of every step with .sluiceignore)';
  const open = unclosed(pattern);
  if (open) return `has a "${open}" that is never closed`;
  return undefined;
}

/** The first bracket that is opened and never closed, outside a character class. */
function unclosed(pattern: string): string | undefined {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ']': '[', '}': '{', ')': '(' };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (stack[stack.length - 1] === '[') {
      if (c === ']' && pattern[i - 1] !== '[') stack.pop();
      continue;
    }
    if (c === '[' || c === '{' || c === '(') stack.push(c);
    else if (c in pairs && stack[stack.length - 1] === pairs[c]) stack.pop();
  }
  return stack[0];
}

const OPTIONS = { dot: true, nocomment: true, nonegate: true } as const;

/** A matcher for one valid pattern; compiled once, tried against every path. */
export function includeMatcher(pattern: string): (path: string) => boolean {
  const p = pattern.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  const file = new Minimatch(p, OPTIONS);
  // A directory pattern keeps the files under it.
  const under = new Minimatch(p + '/**', OPTIONS);
  return (path) => file.match(path) || under.match(path);
}

export interface IncludeSelection {
  /** The kept paths, in the order given. */
  kept: string[];
  /** Index of each pattern that is not valid, with why. */
  invalid: Array<{ index: number; reason: string }>;
  /** Index of each valid pattern that matched no path. */
  unmatched: number[];
}

/**
 * Which of `paths` the patterns keep; invalid patterns keep nothing. `links` (symlink path → its target,
 * relative to the link's directory): a kept link keeps what it points to, so the link still resolves in
 * the step's working directory.
 */
export function selectIncluded(
  paths: readonly string[],
  include: readonly string[],
  links: ReadonlyMap<string, string> = new Map(),
): IncludeSelection {
  const invalid: IncludeSelection['invalid'] = [];
  const valid: Array<{ index: number; match: (path: string) => boolean; hits: number }> = [];
  include.forEach((pattern, index) => {
    const reason = includePatternProblem(pattern);
    if (reason) invalid.push({ index, reason });
    else valid.push({ index, match: includeMatcher(pattern), hits: 0 });
  });
  const kept: string[] = [];
  for (const path of paths) {
    let keep = false;
    for (const v of valid)
      if (v.match(path)) {
        v.hits++;
        keep = true;
      }
    if (keep) kept.push(path);
  }
  if (links.size) {
    const keptSet = new Set(kept);
    const queue = kept.filter((p) => links.has(p));
    while (queue.length) {
      const link = queue.pop()!;
      const target = posix.normalize(posix.join(posix.dirname(link), links.get(link)!));
      for (const p of paths)
        if (!keptSet.has(p) && (p === target || p.startsWith(target + '/'))) {
          keptSet.add(p);
          if (links.has(p)) queue.push(p);
        }
    }
    kept.splice(0, kept.length, ...paths.filter((p) => keptSet.has(p)));
  }
  return { kept, invalid, unmatched: valid.filter((v) => v.hits === 0).map((v) => v.index) };
}

/** The sentence for a pattern that matched nothing, listing a few of the files there are. */
export function unmatchedMessage(pattern: string, dir: string, paths: readonly string[]): string {
  const shown = paths.slice(0, 8).join(', ');
  const more = paths.length > 8 ? ` and ${paths.length - 8} more` : '';
  return (
    `include "${pattern}" matches no file of ${dir}. ` +
    (paths.length ? `Its files: ${shown}${more}.` : 'It holds no files.') +
    ' Patterns are globs relative to the code directory (train.py, common/**, *.py).'
  );
}
