import { z } from 'zod';
import { orParameter } from './formats';
import { OutputSchema, argsField, binding, codeField, commonStep } from './step-fields';
import { SweepStepSchema } from './sweep-schema';
import { AutomlStepSchema } from './automl-schema';

/**
 * A step: the union of the step kinds, told apart by `kind` (default `command`), with the three kinds
 * that run a command over data: `command`, `dataTransfer` and `parallelRun`. The search kinds have their
 * own modules (sweep-schema.ts, automl-schema.ts). STEP_KINDS lists every member of the union.
 */

export const CommandStepSchema = z.strictObject({
  kind: z.literal('command').default('command'),
  command: z.string().min(1).optional().meta({
    description:
      'Shell command; ${{parameters.X}}, ${{inputs.X}} and ${{outputs.X}} are substituted, each value as literal text. Or give `args`.',
  }),
  args: argsField,
  code: codeField,
  inputs: z.record(z.string(), binding).optional(),
  outputs: z.record(z.string(), OutputSchema).optional(),
  ...commonStep,
});

export const DataTransferStepSchema = z.strictObject({
  kind: z.literal('dataTransfer'),
  source: binding,
  destination: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
      error: 'a dataset name is lowercase letters, digits, ".", "_" or "-"',
    })
    .meta({ description: 'Dataset to register the copied data as (a new version).' }),
  ...commonStep,
});

export const ParallelRunStepSchema = z.strictObject({
  kind: z.literal('parallelRun'),
  input: binding.meta({ description: 'A directory whose files are split into mini-batches.' }),
  miniBatchSize: orParameter(
    z.int().min(1).max(1_000_000).meta({ description: 'Files per mini-batch. Default 10.' }),
  ).default(10),
  command: z.string().min(1).optional().meta({
    description: 'Run once per mini-batch; ${{minibatch}} is a file listing the batch paths.',
  }),
  args: argsField,
  code: codeField,
  inputs: z.record(z.string(), binding).optional().meta({
    description:
      'Side inputs every mini-batch job receives whole (a model, a lookup table); not split. `input` is reserved.',
  }),
  outputAction: z.enum(['appendRow', 'summaryOnly']).default('appendRow'),
  errorThreshold: orParameter(
    z.int().min(-1).max(1_000_000).meta({ description: 'Failed mini-batches tolerated; -1 = any.' }),
  ).default(-1),
  outputs: z.record(z.string(), OutputSchema).optional(),
  ...commonStep,
});

export const STEP_KINDS = ['command', 'dataTransfer', 'sweep', 'automl', 'parallelRun'] as const;

export const StepSchema = z
  .discriminatedUnion('kind', [
    CommandStepSchema,
    DataTransferStepSchema,
    SweepStepSchema,
    AutomlStepSchema,
    ParallelRunStepSchema,
  ])
  .meta({ description: 'A step; `kind` defaults to command.' });

export type StepDefinition = z.output<typeof StepSchema>;
export type StepKind = StepDefinition['kind'];
export type CommandStep = z.output<typeof CommandStepSchema>;
export type DataTransferStep = z.output<typeof DataTransferStepSchema>;
export type ParallelRunStep = z.output<typeof ParallelRunStepSchema>;
