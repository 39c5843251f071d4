/**
 * One row of a sweep's or an automl step's leaderboard, as stored on its step record. Its own file, with
 * no imports, so the dashboard's browser build imports the same type the server writes.
 */
export interface LeaderboardRow {
  rank: number;
  /** sweep: the trial's index; automl: FLAML's trial id within its family. */
  trial?: number;
  /** automl: the estimator family (Azure ML's name) and FLAML's estimator. */
  family?: string;
  model?: string;
  /** sweep: the trial's search-space values; automl: the estimator's hyperparameters. */
  hyperparameters?: Record<string, unknown>;
  /** The last value of each metric. */
  metrics?: Record<string, number>;
  durationS?: number;
  /** Completed, Failed, Canceled (sweep: stopped by early termination), … */
  status: string;
  error?: string;
}
