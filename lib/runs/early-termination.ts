/**
 * Early termination of sweep trials (Azure ML's bandit and median-stopping policies), as a pure decision
 * over the intermediate metrics trials report: lines `{"name": M, "value": v, "step": k}` written to
 * $SLUICE_METRICS. Running trials' points arrive with the agent's heartbeat; finished trials' with their
 * result. The engine asks whenever a trial of the sweep ends and cancels what this returns.
 */

export type EarlyTerminationPolicy =
  | {
      policy: 'bandit';
      slackFactor?: number;
      slackAmount?: number;
      evaluationInterval: number;
      delayEvaluation: number;
    }
  | { policy: 'medianStopping'; evaluationInterval: number; delayEvaluation: number };

export interface TrialCurve {
  index: number;
  running: boolean;
  /** The primary metric's points by step index (the last value reported for a step wins). */
  points: ReadonlyArray<{ step: number; value: number }>;
}

/** The points of `metric` with a step index, one per step, in step order. */
export function curveOf(
  metrics: ReadonlyArray<{ name: string; value: number; step?: number }> | undefined,
  metric: string,
): Array<{ step: number; value: number }> {
  const byStep = new Map<number, number>();
  for (const m of metrics ?? [])
    if (m.name === metric && typeof m.step === 'number' && Number.isFinite(m.value))
      byStep.set(m.step, m.value);
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, value]) => ({ step, value }));
}

/**
 * Running trials to stop. A trial is judged at its latest evaluation step k (past `delayEvaluation`, a
 * multiple of `evaluationInterval`), against the other trials that reached k:
 * - bandit: its value at k is worse than the best value at k by more than the slack (factor: best /
 *   (1 + f) when maximising, best × (1 + f) when minimising; amount: best ∓ a);
 * - medianStopping: its best value up to k is worse than the median of the others' running averages up to k.
 * A trial with no other trial to compare with is never stopped.
 */
export function trialsToStop(
  policy: EarlyTerminationPolicy,
  goal: 'maximize' | 'minimize',
  curves: readonly TrialCurve[],
): number[] {
  const better = (a: number, b: number): boolean => (goal === 'maximize' ? a > b : a < b);
  const upTo = (c: TrialCurve, k: number): Array<{ step: number; value: number }> =>
    c.points.filter((p) => p.step <= k);
  const stop: number[] = [];
  for (const c of curves) {
    if (!c.running) continue;
    const k = [...c.points]
      .reverse()
      .map((p) => p.step)
      .find((s) => s >= policy.delayEvaluation && s % policy.evaluationInterval === 0);
    if (k === undefined) continue;
    const others = curves.filter((o) => o.index !== c.index && o.points.some((p) => p.step >= k));
    if (!others.length) continue;
    if (policy.policy === 'bandit') {
      const mine = c.points.find((p) => p.step === k)!.value;
      const at = (o: TrialCurve): number => upTo(o, k).at(-1)!.value;
      const best = others.map(at).reduce((a, b) => (better(a, b) ? a : b));
      if (!better(mine, best) && mine !== best) {
        let bar: number;
        if (policy.slackFactor !== undefined)
          bar = goal === 'maximize' ? best / (1 + policy.slackFactor) : best * (1 + policy.slackFactor);
        else bar = goal === 'maximize' ? best - (policy.slackAmount ?? 0) : best + (policy.slackAmount ?? 0);
        if (better(bar, mine)) stop.push(c.index);
      }
    } else {
      const mineBest = upTo(c, k)
        .map((p) => p.value)
        .reduce((a, b) => (better(a, b) ? a : b));
      const averages = others
        .map((o) => upTo(o, k).map((p) => p.value))
        .map((vs) => vs.reduce((a, b) => a + b, 0) / vs.length)
        .sort((a, b) => a - b);
      const mid = Math.floor(averages.length / 2);
      const median = averages.length % 2 ? averages[mid]! : (averages[mid - 1]! + averages[mid]!) / 2;
      if (better(median, mineBest)) stop.push(c.index);
    }
  }
  return stop;
}
