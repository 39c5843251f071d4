/** "Did you mean" support: the closest known name, when it is close enough to be a typo. */

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  // Long strings are never typos of field names; keep the cost bounded for fuzzed input.
  if (a.length > 100 || b.length > 100) return Math.max(a.length, b.length);
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate within a typo's distance, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const prefix = word.length >= 3 && (cl.startsWith(lower) || lower.startsWith(cl));
    const d = cl === lower ? 0.5 : prefix ? 1 : editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

/** ` Did you mean "x"?` or empty. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c ? ` Did you mean "${c}"?` : '';
}

/** `a, b and c` with quotes; `(none)` for an empty list. */
export function listNames(names: readonly string[], max = 12): string {
  if (names.length === 0) return '(none)';
  const q = names.slice(0, max).map((n) => `"${n}"`);
  const more = names.length > max ? ` and ${names.length - max} more` : '';
  if (q.length === 1) return q[0]! + more;
  return more ? q.join(', ') + more : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}

/** A short description of a value for messages: `string "3"`, `number 3`, `a list`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}
