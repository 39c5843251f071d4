import type { InvocationContext, Timer } from '@azure/functions';
import { defaultEvaluateDeps, evaluateDueSchedules } from './evaluate';

/**
 * How often the evaluator looks for due schedules: six-field NCRONTAB. Occurrences are computed from
 * each schedule's own rule and `lastEvaluated`, not from this tick, so a tick that is late, doubled or
 * skipped changes nothing but latency.
 */
export const EVALUATOR_SCHEDULE = '*/5 * * * * *';

export async function evaluateSchedulesOnTimer(_timer: Timer, ctx: InvocationContext): Promise<void> {
  const results = await evaluateDueSchedules(defaultEvaluateDeps((m) => ctx.warn(m), ctx));
  for (const r of results) {
    const decided = r.outcomes.map((o) => `${o.occurrence} ${o.decision}${o.runId ? ` ${o.runId}` : ''}`);
    if (r.missed) decided.push(`${r.missed.count}${r.missed.countIsLowerBound ? '+' : ''} missed`);
    ctx.log(`schedule ${r.schedule}: ${decided.join(', ')}`);
  }
}
