import type { LeaderboardRow } from '../runs/store';

/**
 * The leaderboard on a step record: an automl step's `leaderboard` output (JSON lines the gather job
 * wrote, best first), or a sweep's trials ranked by its metric. Pure.
 */

/** Parses the gather's JSON lines; bad lines are skipped, at most `limit` rows. */
export function parseLeaderboard(text: string, limit: number): LeaderboardRow[] {
  const out: LeaderboardRow[] = [];
  for (const line of text.split('\n')) {
    if (out.length >= limit) break;
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as Record<string, unknown>;
      const row: LeaderboardRow = {
        rank: Number(r.rank) || out.length + 1,
        status: String(r.status ?? 'Completed'),
      };
      if (typeof r.trial === 'number') row.trial = r.trial;
      if (typeof r.family === 'string') row.family = r.family;
      if (typeof r.model === 'string') row.model = r.model;
      if (r.hyperparameters && typeof r.hyperparameters === 'object')
        row.hyperparameters = r.hyperparameters as Record<string, unknown>;
      if (r.metrics && typeof r.metrics === 'object') {
        const m: Record<string, number> = {};
        for (const [k, v] of Object.entries(r.metrics))
          if (typeof v === 'number' && Number.isFinite(v)) m[k] = v;
        row.metrics = m;
      }
      if (typeof r.durationS === 'number') row.durationS = r.durationS;
      if (typeof r.error === 'string') row.error = r.error.slice(0, 500);
      out.push(row);
    } catch {
      // a line that is not JSON: not a trial
    }
  }
  return out;
}

/** A sweep's trials ranked by `metric` (its last value); trials without it, then failed ones, last. */
export function sweepLeaderboard(
  trials: ReadonlyArray<{
    params?: Record<string, string | number | boolean>;
    status: string;
    metrics?: ReadonlyArray<{ name: string; value: number }>;
    durationS?: number;
    error?: string;
  }>,
  metric: string,
  goal: 'maximize' | 'minimize',
  limit: number,
): LeaderboardRow[] {
  const rows = trials.map((t, trial) => {
    const metrics: Record<string, number> = {};
    for (const m of t.metrics ?? []) metrics[m.name] = m.value;
    return {
      trial,
      hyperparameters: { ...(t.params ?? {}) },
      metrics,
      status: t.status,
      ...(t.durationS !== undefined ? { durationS: t.durationS } : {}),
      ...(t.error ? { error: t.error.slice(0, 500) } : {}),
    };
  });
  const score = (r: (typeof rows)[number]): number => {
    const v = r.metrics[metric];
    if (r.status !== 'Completed' || v === undefined) return Infinity;
    return goal === 'maximize' ? -v : v;
  };
  return rows
    .sort((a, b) => score(a) - score(b) || a.trial - b.trial)
    .slice(0, limit)
    .map((r, i) => ({ rank: i + 1, ...r }));
}

const num = (v: unknown): string =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v ?? '');

/**
 * The leaderboard as text for the CLI: rank, model (or trial), status, duration, the metrics, and the
 * hyperparameters, the first `limit` rows.
 */
export function formatLeaderboard(rows: readonly LeaderboardRow[], limit = rows.length): string {
  const metricNames = [...new Set(rows.flatMap((r) => Object.keys(r.metrics ?? {})))];
  const head = ['#', 'model', 'status', 'seconds', ...metricNames, 'hyperparameters'];
  const body = rows.slice(0, limit).map((r) => [
    String(r.rank),
    r.family ? `${r.family}${r.model ? `/${r.model}` : ''}` : `trial ${r.trial ?? '?'}`,
    r.status,
    r.durationS !== undefined ? num(r.durationS) : '',
    ...metricNames.map((m) => num(r.metrics?.[m] ?? '')),
    r.error
      ? r.error.slice(0, 80)
      : Object.entries(r.hyperparameters ?? {})
          .map(([k, v]) => `${k}=${num(v)}`)
          .join(' ')
          .slice(0, 100),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const more = rows.length > limit ? `\n… ${rows.length - limit} more` : '';
  return [line(head), ...body.map(line)].join('\n') + more;
}
