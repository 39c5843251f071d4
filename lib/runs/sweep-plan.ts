import { substitutePlain, substituteShell } from '../compute/shell-words';
/**
 * Pure planning for the `sweep` step kind (Azure ML's HyperDriveStep): which parameter values each trial
 * gets (grid, random or Halton sampling), which running trials an early-termination policy stops, and
 * which trial wins. Deterministic: the same search space, sampler, seed and trial count always give the
 * same trials, so a replay, a retried activity and the cache key agree.
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

export type Sampler = 'grid' | 'random' | 'halton';

/** The trials a sweep runs: `maxTotalTrials`, or for a grid without it, the whole grid. */
export function sweepTrials(
  space: Record<string, SearchDimension>,
  sampler: Sampler,
  maxTotalTrials: number | undefined,
  seed = 0,
): Array<Record<string, TrialValue>> {
  if (sampler === 'grid') {
    const size = gridSize(space);
    return planTrials(space, Math.min(size, maxTotalTrials ?? size));
  }
  const n = maxTotalTrials ?? 1;
  return sampler === 'random' ? randomTrials(space, n, seed) : planTrials(space, n);
}

/** Combinations of a grid of choice dimensions (others count as one value). */
export function gridSize(space: Record<string, SearchDimension>): number {
  return Object.values(space).reduce((n, d) => n * (d.type === 'choice' ? d.values.length : 1), 1);
}

/** mulberry32: a small seeded generator, the same numbers on every platform. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `trials` independent uniform draws per dimension (dimensions in name order), from `seed`. */
export function randomTrials(
  space: Record<string, SearchDimension>,
  trials: number,
  seed: number,
): Array<Record<string, TrialValue>> {
  const names = Object.keys(space).sort();
  const next = seeded(seed);
  const out: Array<Record<string, TrialValue>> = [];
  for (let t = 0; t < trials; t++) {
    const params: Record<string, TrialValue> = {};
    for (const name of names) params[name] = valueAt(space[name]!, next());
    out.push(params);
  }
  return out;
}

function valueAt(dim: SearchDimension, u: number): TrialValue {
  switch (dim.type) {
    case 'choice':
      return dim.values[Math.min(dim.values.length - 1, Math.floor(u * dim.values.length))]!;
    case 'uniform':
      return round(dim.min + (dim.max - dim.min) * u);
    case 'logUniform':
      return round(Math.exp(Math.log(dim.min) + (Math.log(dim.max) - Math.log(dim.min)) * u));
    case 'int':
      return Math.min(dim.max, dim.min + Math.floor((dim.max - dim.min + 1) * u));
  }
}

/**
 * Halton: `trials` parameter sets. `choice` dimensions form a grid walked in mixed radix (the first dimension
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
      if (dim.type === 'choice') {
        params[name] = dim.values[radix % dim.values.length]!;
        radix = Math.floor(radix / dim.values.length);
      } else params[name] = valueAt(dim, u);
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
