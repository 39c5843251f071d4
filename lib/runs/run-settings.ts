import { loadSettings } from '../config/settings';
import { parseDuration } from '../pipelines/formats';

/**
 * The run engine's settings, parsed once per process. One rule for a bad value: reading them throws a
 * `RunSettingError` naming the setting and what it takes, and the host's start fails with it (the
 * registrations in functions/ read them at load), instead of a run failing later with a confusing error.
 */
export interface RunSettings {
  /** Step timeout when the definition sets none. Setting `SLUICE_STEP_TIMEOUT_DEFAULT` (a duration). @default 6h */
  defaultStepTimeoutMs: number;
  /** A running job with no heartbeat for this long is failed as `lost`. Setting `SLUICE_LOST_AFTER_MS`. @default 30000 */
  lostAfterMs: number;
  /** Part of every cache key: bump to invalidate every cache entry. Setting `SLUICE_CACHE_VERSION`. */
  cacheVersion: string;
}

export class RunSettingError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunSettingError';
  }
}

export function parseRunSettings(env: NodeJS.ProcessEnv = process.env): RunSettings {
  const problems: Array<{ setting: string; message: string }> = [];
  let defaultStepTimeoutMs = 6 * 3600_000;
  const t = env.SLUICE_STEP_TIMEOUT_DEFAULT;
  if (t !== undefined && t !== '') {
    const ms = parseDuration(t);
    if (ms === undefined || ms <= 0)
      problems.push({
        setting: 'SLUICE_STEP_TIMEOUT_DEFAULT',
        message: `SLUICE_STEP_TIMEOUT_DEFAULT is "${t}"; give a duration such as 90s, 30m or 6h (or unset it for 6h)`,
      });
    else defaultStepTimeoutMs = ms;
  }
  let lostAfterMs = 30_000;
  const l = env.SLUICE_LOST_AFTER_MS;
  if (l !== undefined && l !== '') {
    const n = Number(l);
    if (!Number.isInteger(n) || n <= 0)
      problems.push({
        setting: 'SLUICE_LOST_AFTER_MS',
        message: `SLUICE_LOST_AFTER_MS is "${l}"; give a whole number of milliseconds above 0 (default 30000)`,
      });
    else lostAfterMs = n;
  }
  if (problems.length)
    throw new RunSettingError(
      problems[0]!.setting,
      `Sluice cannot start: ${problems.map((p) => p.message).join('; ')}.`,
    );
  return { defaultStepTimeoutMs, lostAfterMs, cacheVersion: loadSettings(env).cacheVersion };
}

let parsed: RunSettings | undefined;

/** The settings of this process, parsed on first use (functions/ reads them at load: a bad value stops the start). */
export function runSettings(): RunSettings {
  return (parsed ??= parseRunSettings());
}
