/**
 * Compute targets: names in pipeline definitions mapped to an agent pool and what that pool declares
 * about its environment (lib/runs puts the environment in the cache key, so moving a step to a pool
 * with another CUDA or Node version reruns it). Setting `SLUICE_COMPUTE_TARGETS` (JSON).
 */
import { z } from 'zod';

export interface ComputeTarget {
  name: string;
  /** The agent pool; jobs go to queue `sluice-jobs-<pool>`. */
  pool: string;
  /** What the pool declares (versions, image, GPU); free-form strings. */
  environment: Record<string, string>;
}

const POOL_RE = /^[a-z0-9](?:[a-z0-9]|-(?!-)){0,49}[a-z0-9]$|^[a-z0-9]$/;

const TargetsSchema = z.record(
  z.string().min(1),
  z.object({
    pool: z
      .string()
      .regex(POOL_RE, 'a pool is 1-51 lowercase letters, digits and single hyphens (it names a queue)'),
    environment: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
      .default({}),
  }),
);

/** The targets when `SLUICE_COMPUTE_TARGETS` is unset: one local target describing this machine. */
export function defaultTargets(): Record<string, ComputeTarget> {
  return {
    local: {
      name: 'local',
      pool: 'local',
      environment: { node: process.version, platform: `${process.platform}-${process.arch}` },
    },
  };
}

/**
 * Parses `SLUICE_COMPUTE_TARGETS`, e.g.
 * `{"local":{"pool":"local","environment":{"node":"20"}},"gpu":{"pool":"gpu-a100","environment":{"cuda":"12.4"}}}`.
 * A malformed value is an error naming the field, not a silent fallback.
 * @default defaultTargets() when the setting is unset or empty
 */
export function loadComputeTargets(env: NodeJS.ProcessEnv = process.env): Record<string, ComputeTarget> {
  const raw = env.SLUICE_COMPUTE_TARGETS;
  if (!raw || raw.trim() === '') return defaultTargets();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new Error(`SLUICE_COMPUTE_TARGETS is not valid JSON (${(e as Error).message}).`);
  }
  const r = TargetsSchema.safeParse(parsed);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `/${i.path.join('/')}: ${i.message}`).join('; ');
    throw new Error(`SLUICE_COMPUTE_TARGETS is invalid: ${problems}.`);
  }
  const out: Record<string, ComputeTarget> = {};
  for (const [name, t] of Object.entries(r.data))
    out[name] = { name, pool: t.pool, environment: t.environment };
  return out;
}

/** One target by name, or undefined; callers turn that into a 400 with their own pointer. */
export function getComputeTarget(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): ComputeTarget | undefined {
  const targets = loadComputeTargets(env);
  return Object.prototype.hasOwnProperty.call(targets, name) ? targets[name] : undefined;
}

export function isValidPool(pool: string): boolean {
  return POOL_RE.test(pool);
}
