import { substitutePlain, substituteShell } from '../compute/shell-words';
/**
 * Pure planning for the `automl` step kind (a sweep): which parameter values each trial gets, and which
 * trial wins. Deterministic: the same search space and trial count always give the same trials, so a
 * replay, a retried activity and the cache key agree.
 */

export type SearchDimension =
  | { type: 'choice'; values: Array<string | number | boolean> }
  | { type: 'uniform'; min: number; max: number }
  | { type: 'logUniform'; min: number; max: number }
  | { type: 'int'; min: number; max: number };

export type TrialValue = string | number | boolean;

const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];

/** The radical inverse of `i` in `base` (a Halton coordinate in [0, 1)). */
function radicalInverse(i: number, base: number): number {
  let f = 1;
  let r = 0;
  for (let n = i; n > 0; n = Math.floor(n / base)) {
    f /= base;
    r += f * (n % base);
  }
  return r;
}

/**
 * `trials` parameter sets. `choice` dimensions form a grid walked in mixed radix (the first dimension
 * changes fastest), so N ≥ grid size covers every combination; continuous dimensions follow a Halton
 * sequence (even coverage without randomness). Dimensions are taken in name order.
 */
export function planTrials(
  space: Record<string, SearchDimension>,
  trials: number,
): Array<Record<string, TrialValue>> {
  const names = Object.keys(space).sort();
  const out: Array<Record<string, TrialValue>> = [];
  for (let t = 0; t < trials; t++) {
    const params: Record<string, TrialValue> = {};
    let radix = t;
    names.forEach((name, d) => {
      const dim = space[name]!;
      const u = radicalInverse(t + 1, PRIMES[d % PRIMES.length]!);
      switch (dim.type) {
        case 'choice':
          params[name] = dim.values[radix % dim.values.length]!;
          radix = Math.floor(radix / dim.values.length);
          break;
        case 'uniform':
          params[name] = round(dim.min + (dim.max - dim.min) * u);
          break;
        case 'logUniform':
          params[name] = round(Math.exp(Math.log(dim.min) + (Math.log(dim.max) - Math.log(dim.min)) * u));
          break;
        case 'int':
          params[name] = Math.min(dim.max, dim.min + Math.floor((dim.max - dim.min + 1) * u));
          break;
      }
    });
    out.push(params);
  }
  return out;
}

/** Twelve significant digits: stable text in commands, no float noise like 0.30000000000000004. */
function round(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * Replaces `${{trial.NAME}}` with the trial's values. `shell`: the text is a shell command, and each
 * value becomes literal text wherever it stands (shell-words.ts); otherwise (env, args) as it is.
 */
export function substituteTrial(text: string, params: Record<string, TrialValue>, shell: boolean): string {
  const resolve = (expr: string): string | undefined => {
    const m = /^trial\.([A-Za-z0-9_-]+)$/.exec(expr);
    return m && m[1]! in params ? String(params[m[1]!]) : undefined;
  };
  return (shell ? substituteShell(text, resolve) : substitutePlain(text, resolve)).text;
}

/**
 * The winning trial: the best last-reported value of `metric` among trials that reported it (ties go
 * to the lower trial index). Undefined when none did.
 */
export function bestTrial(
  metrics: ReadonlyArray<ReadonlyArray<{ name: string; value: number }> | undefined>,
  metric: string,
  goal: 'maximize' | 'minimize',
): { index: number; value: number } | undefined {
  let best: { index: number; value: number } | undefined;
  metrics.forEach((ms, index) => {
    const last = ms?.filter((m) => m.name === metric).at(-1);
    if (!last) return;
    if (!best || (goal === 'maximize' ? last.value > best.value : last.value < best.value))
      best = { index, value: last.value };
  });
  return best;
}
