/**
 * Compute targets: names in pipeline definitions mapped to a backend (an agent pool, a Slurm cluster),
 * the backend's settings, what the target declares about its environment (lib/runs puts the environment
 * in the cache key, so moving a step to a pool with another CUDA or Node version reruns it), its resource
 * limits and the defaults a step gets. The shape is parsed here; targets-store.ts keeps them in Cosmos DB,
 * seeded from `SLUICE_COMPUTE_TARGETS` (JSON).
 */
import { z } from 'zod';
import type { StepResources } from './job';

export type BackendKind = 'agent' | 'slurm';

/** Settings of a Slurm target: how its sbatch command line is made. Values are argv, never shell text. */
export interface SlurmSettings {
  /** `--partition`. @default the cluster's default partition */
  partition?: string;
  /** `--account`. */
  account?: string;
  /** `--qos`. */
  qos?: string;
  /** Extra sbatch arguments, one argv element each (e.g. `["--constraint=a100"]`). */
  extraArgs?: string[];
  /** slurm.conf of the cluster. @default the service's `SLURM_CONF` */
  slurmConf?: string;
  /** A directory on storage the nodes share, for job scripts, Slurm output files and working directories. @default `<tmp>/sluice-slurm` */
  workDir?: string;
}

export interface ComputeTarget {
  name: string;
  backend: BackendKind;
  /** Agent targets: the pool (queue `sluice-jobs-<pool>`). Slurm targets: the target's name, for job rows. */
  pool: string;
  /** Slurm targets' settings (empty for agent targets). */
  slurm?: SlurmSettings;
  /** What the target declares (versions, image, GPU); free-form strings. */
  environment: Record<string, string>;
  /** The most one step may ask for on this target; a bigger request fails at publish and run start. */
  resources?: StepResources;
  /** What a step that asks for nothing gets. */
  defaults?: StepResources;
  /** When the target was last written (stored targets). */
  updatedAt?: string;
}

const POOL_RE = /^[a-z0-9](?:[a-z0-9]|-(?!-)){0,49}[a-z0-9]$|^[a-z0-9]$/;
/** The rule pipeline definitions use for `compute:` (lib/pipelines IDENT_RE). */
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

export const ResourcesSchema = z
  .object({
    cpu: z.number().positive().max(4096).optional(),
    memoryGb: z.number().positive().max(65536).optional(),
    gpu: z.number().int().min(0).max(64).optional(),
  })
  .strict();

const Environment = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
  .default({});

const Pool = z
  .string()
  .regex(POOL_RE, 'a pool is 1-51 lowercase letters, digits and single hyphens (it names a queue)');

const SlurmSettingsSchema = z
  .object({
    partition: z.string().min(1).max(200).optional(),
    account: z.string().min(1).max(200).optional(),
    qos: z.string().min(1).max(200).optional(),
    extraArgs: z
      .array(
        z.string().regex(/^--?[A-Za-z]/, 'each extra argument is one sbatch option, e.g. --constraint=a100'),
      )
      .max(50)
      .optional(),
    slurmConf: z.string().min(1).optional(),
    workDir: z.string().min(1).optional(),
  })
  .strict();

/** A target as PUT to `/api/compute/{name}` (and each value of `SLUICE_COMPUTE_TARGETS`). */
export const TargetBodySchema = z.union([
  z
    .object({
      backend: z.literal('agent'),
      settings: z.object({ pool: Pool }).strict(),
      environment: Environment,
      resources: ResourcesSchema.optional(),
      defaults: ResourcesSchema.optional(),
    })
    .strict(),
  z
    .object({
      backend: z.literal('slurm'),
      settings: SlurmSettingsSchema.default({}),
      environment: Environment,
      resources: ResourcesSchema.optional(),
      defaults: ResourcesSchema.optional(),
    })
    .strict(),
  // The original shape of SLUICE_COMPUTE_TARGETS: an agent pool.
  z
    .object({
      pool: Pool,
      environment: Environment,
      resources: ResourcesSchema.optional(),
      defaults: ResourcesSchema.optional(),
    })
    .strict(),
]);
export type TargetBody = z.input<typeof TargetBodySchema>;

/** A parsed body as the target it describes. */
export function targetFromBody(name: string, body: z.output<typeof TargetBodySchema>): ComputeTarget {
  const common = {
    name,
    environment: body.environment,
    ...(body.resources ? { resources: body.resources } : {}),
    ...(body.defaults ? { defaults: body.defaults } : {}),
  };
  if ('backend' in body && body.backend === 'slurm')
    return { ...common, backend: 'slurm', pool: slurmPool(name), slurm: body.settings };
  const pool = 'backend' in body ? body.settings.pool : body.pool;
  return { ...common, backend: 'agent', pool };
}

/** The body that PUT would take to make `t` again (what GET returns). */
export function bodyOfTarget(t: ComputeTarget): Record<string, unknown> {
  return {
    backend: t.backend,
    settings: t.backend === 'slurm' ? (t.slurm ?? {}) : { pool: t.pool },
    environment: t.environment,
    ...(t.resources ? { resources: t.resources } : {}),
    ...(t.defaults ? { defaults: t.defaults } : {}),
  };
}

/** Job rows of a Slurm target carry a pool-shaped tag derived from its name (no queue is made for it). */
function slurmPool(name: string): string {
  const p = `slurm-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`
    .replace(/-+$/, '')
    .slice(0, 51)
    .replace(/-+$/, '');
  return p;
}

export function isValidTargetName(name: string): boolean {
  return NAME_RE.test(name);
}

/** The targets when `SLUICE_COMPUTE_TARGETS` is unset: one local target describing this machine. */
export function defaultTargets(): Record<string, ComputeTarget> {
  return {
    local: {
      name: 'local',
      backend: 'agent',
      pool: 'local',
      environment: { node: process.version, platform: `${process.platform}-${process.arch}` },
    },
  };
}

/** Problems with a body, as `/pointer: message` pairs (empty when it is valid). */
export function targetBodyProblems(body: unknown): Array<{ pointer: string; message: string }> {
  const r = TargetBodySchema.safeParse(body);
  if (r.success) return [];
  return r.error.issues.map((i) => ({ pointer: '/' + i.path.join('/'), message: i.message }));
}

/**
 * Parses `SLUICE_COMPUTE_TARGETS`, e.g.
 * `{"local":{"pool":"local","environment":{"node":"20"}},"hpc":{"backend":"slurm","settings":{"partition":"debug"}}}`.
 * A malformed value is an error naming the field, not a silent fallback. These seed the stored targets.
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
  const r = z
    .record(
      z.string().regex(NAME_RE, 'a target name is a letter or _, then up to 63 letters, digits, _ or -'),
      TargetBodySchema,
    )
    .safeParse(parsed);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `/${i.path.join('/')}: ${i.message}`).join('; ');
    throw new Error(`SLUICE_COMPUTE_TARGETS is invalid: ${problems}.`);
  }
  const out: Record<string, ComputeTarget> = {};
  for (const [name, t] of Object.entries(r.data)) out[name] = targetFromBody(name, t);
  return out;
}

export function isValidPool(pool: string): boolean {
  return POOL_RE.test(pool);
}

/**
 * The resources a step gets on `target`: its own request over the target's defaults. Returns the
 * problems when the request exceeds the target's limits (each with what to do), so publish and run
 * start fail with the same message and a job is never left queued for resources nobody has.
 */
export function effectiveResources(
  request: StepResources | undefined,
  target: ComputeTarget,
): { resources: StepResources; problems: string[] } {
  const resources: StepResources = { ...(target.defaults ?? {}), ...(request ?? {}) };
  const problems: string[] = [];
  const limits = target.resources ?? {};
  const units = { cpu: 'CPU(s)', memoryGb: 'GB of memory', gpu: 'GPU(s)' } as const;
  for (const k of ['cpu', 'memoryGb', 'gpu'] as const) {
    const want = resources[k];
    const max = limits[k];
    if (want !== undefined && max !== undefined && want > max)
      problems.push(
        `asks for ${want} ${units[k]}, but compute target "${target.name}" offers at most ${max}; lower resources.${k} or choose a bigger target`,
      );
  }
  return { resources, problems };
}
