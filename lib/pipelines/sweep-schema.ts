import { z } from 'zod';
import { orParameter } from './formats';
import { OutputSchema, argsField, binding, codeField, commonStep } from './step-fields';

/**
 * `kind: sweep`: a search over the user's own trial command (Azure ML's HyperDriveStep): the search
 * space, the sampler, the trial budget and the early-termination policies. Structure only; rules across
 * fields (a grid of choices only, a bandit's one slack) live in search-steps.ts.
 */

const SearchDimensionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('choice'),
    values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
  }),
  z.strictObject({ type: z.literal('uniform'), min: z.number(), max: z.number() }),
  z.strictObject({ type: z.literal('logUniform'), min: z.number().positive(), max: z.number().positive() }),
  z.strictObject({ type: z.literal('int'), min: z.int(), max: z.int() }),
]);

/** Bandit: stop a trial whose metric falls outside a slack of the best trial's at the same step. */
const BanditPolicySchema = z.strictObject({
  policy: z.literal('bandit'),
  slackFactor: z
    .number()
    .positive()
    .optional()
    .meta({ description: 'Allowed ratio below the best, e.g. 0.1.' }),
  slackAmount: z.number().positive().optional().meta({ description: 'Allowed distance from the best.' }),
  evaluationInterval: z.int().min(1).default(1),
  delayEvaluation: z.int().min(0).default(0),
});
/** Median stopping: stop a trial whose best so far is worse than the median of the others' running averages. */
const MedianStoppingPolicySchema = z.strictObject({
  policy: z.literal('medianStopping'),
  evaluationInterval: z.int().min(1).default(1),
  delayEvaluation: z.int().min(0).default(0),
});
export const EarlyTerminationSchema = z
  .discriminatedUnion('policy', [BanditPolicySchema, MedianStoppingPolicySchema])
  .meta({
    description:
      'Stops running trials on the intermediate metrics they write to $SLUICE_METRICS with a `step` index.',
  });

/** `kind: sweep`: a search over the user's own trial command (Azure ML's HyperDriveStep). */
export const SweepStepSchema = z.strictObject({
  kind: z.literal('sweep'),
  metric: z
    .string()
    .min(1)
    .meta({ description: 'Metric name the trial command reports; the best trial wins.' }),
  goal: z.enum(['maximize', 'minimize']).default('maximize'),
  /** @default "halton" */
  sampler: z.enum(['grid', 'random', 'halton']).default('halton').meta({
    description:
      'grid: every combination of choice dimensions; random: seeded uniform draws; halton: a low-discrepancy sequence (choices walked as a grid). Default halton.',
  }),
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0)
    .meta({ description: 'Seed of the random sampler. Default 0.' }),
  maxTotalTrials: orParameter(
    z
      .int()
      .min(1)
      .max(1000)
      .meta({ description: 'Trials in all; grid: at most the grid size (its default).' }),
  ).optional(),
  maxConcurrentTrials: orParameter(z.int().min(1).max(64)).optional(),
  earlyTermination: EarlyTerminationSchema.optional(),
  task: z.string().min(1).optional().meta({
    description: 'Free text passed to trials as $SLUICE_AUTOML_TASK (kept from the former automl sweep).',
  }),
  searchSpace: z.record(z.string(), SearchDimensionSchema).meta({
    description: 'Trial parameters; the command uses them as ${{trial.NAME}}.',
  }),
  command: z.string().min(1).optional().meta({ description: 'Command template run once per trial.' }),
  args: argsField,
  code: codeField,
  inputs: z.record(z.string(), binding).optional(),
  outputs: z.record(z.string(), OutputSchema).optional(),
  ...commonStep,
});

export type SweepStep = z.output<typeof SweepStepSchema>;
