import { z } from 'zod';
import { EnvironmentFieldSchema } from '../environments/spec';
import {
  IDENT_RE,
  IDENT_RULE,
  PIPELINE_NAME_RE,
  PIPELINE_NAME_RULE,
  descriptionField as description,
} from './formats';
import {
  BooleanParameterSchema,
  EnumParameterSchema,
  IntegerParameterSchema,
  NumberParameterSchema,
  ParameterSchema,
  PipelineInputSchema,
  StringParameterSchema,
} from './parameters-schema';
import { OutputSchema } from './step-fields';
import { CommandStepSchema, DataTransferStepSchema, ParallelRunStepSchema, StepSchema } from './steps-schema';
import { SweepStepSchema } from './sweep-schema';
import { AutomlStepSchema } from './automl-schema';

/**
 * The pipeline definition document: ONE set of zod schemas drives validation (lib/pipelines/validate.ts),
 * the TypeScript types (inferred from them), the JSON Schema served at GET /api/schemas/pipeline.json and
 * the definition component of the OpenAPI document. This module holds the top level (name, parameters,
 * inputs, settings, environment, steps), the field names the validator offers for "did you mean", and
 * the JSON Schema; the parts are in formats.ts, parameters-schema.ts, step-fields.ts, steps-schema.ts,
 * sweep-schema.ts and automl-schema.ts. Structural rules live in these modules; rules that need the whole
 * document (references, cycles, placeholders) live in the validator's rule modules.
 */

export const SettingsSchema = z.strictObject({
  /** @default 8 */
  maxConcurrency: z
    .int()
    .min(1)
    .max(256)
    .default(8)
    .meta({ description: 'Steps running at once. Default 8.' }),
  /** @default false */
  continueOnStepFailure: z.boolean().default(false).meta({
    description: 'When a step fails, keep running branches that do not depend on it. Default false.',
  }),
  /** @default "local" */
  defaultCompute: z
    .string()
    .regex(IDENT_RE, { error: `a compute target name is ${IDENT_RULE}` })
    .default('local')
    .meta({ description: 'Compute target for steps without `compute`. Default "local".' }),
});

export const PipelineDefinitionSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Editors: the JSON Schema URL. Ignored by Sluice.' }),
    name: z.string().regex(PIPELINE_NAME_RE, { error: `a pipeline name is ${PIPELINE_NAME_RULE}` }),
    description,
    parameters: z.record(z.string(), ParameterSchema).optional(),
    inputs: z.record(z.string(), PipelineInputSchema).optional(),
    settings: SettingsSchema.optional(),
    environment: EnvironmentFieldSchema.optional().meta({
      description: 'The default environment of steps that declare none (lib/environments/README.md).',
    }),
    steps: z
      .record(z.string(), StepSchema)
      .meta({ description: 'Steps by name; the DAG comes from their data and after.' }),
  })
  .meta({ title: 'Sluice pipeline definition' });

export type PipelineDefinition = z.output<typeof PipelineDefinitionSchema>;
export type PipelineDefinitionInput = z.input<typeof PipelineDefinitionSchema>;
export type PipelineSettings = z.output<typeof SettingsSchema>;

/** Field names per object kind, for "did you mean" on unknown keys. */
export const KNOWN_KEYS = {
  definition: Object.keys(PipelineDefinitionSchema.shape),
  settings: Object.keys(SettingsSchema.shape),
  input: Object.keys(PipelineInputSchema.shape),
  output: Object.keys(OutputSchema.shape),
  parameter: {
    integer: Object.keys(IntegerParameterSchema.shape),
    number: Object.keys(NumberParameterSchema.shape),
    string: Object.keys(StringParameterSchema.shape),
    boolean: Object.keys(BooleanParameterSchema.shape),
    enum: Object.keys(EnumParameterSchema.shape),
  } as Record<string, string[]>,
  step: {
    command: Object.keys(CommandStepSchema.shape),
    dataTransfer: Object.keys(DataTransferStepSchema.shape),
    sweep: Object.keys(SweepStepSchema.shape),
    automl: Object.keys(AutomlStepSchema.shape),
    parallelRun: Object.keys(ParallelRunStepSchema.shape),
  } as Record<string, string[]>,
};

/** The JSON Schema editors use (YAML language servers, VS Code). Input shape: defaults are optional. */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PipelineDefinitionSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: 'https://sluice.dev/schemas/pipeline.json' };
}
