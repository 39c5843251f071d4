import { z } from 'zod';
import { DATASET_REF_RE, descriptionField as description } from './formats';

/**
 * What a run binds when it starts: typed parameters (each with a default a run may override) and
 * pipeline inputs (dataset references). Structure only; a default that contradicts its own `min`, `max`,
 * `values` or `pattern` is a rule of parameter-rules.ts.
 */

const paramBase = { description };

export const IntegerParameterSchema = z.strictObject({
  type: z.literal('integer'),
  default: z.int(),
  min: z.int().optional(),
  max: z.int().optional(),
  ...paramBase,
});
export const NumberParameterSchema = z.strictObject({
  type: z.literal('number'),
  default: z.number(),
  min: z.number().optional(),
  max: z.number().optional(),
  ...paramBase,
});
export const StringParameterSchema = z.strictObject({
  type: z.literal('string'),
  default: z.string(),
  pattern: z.string().optional().meta({ description: 'A regular expression run values must match.' }),
  ...paramBase,
});
export const BooleanParameterSchema = z.strictObject({
  type: z.literal('boolean'),
  default: z.boolean(),
  ...paramBase,
});
export const EnumParameterSchema = z.strictObject({
  type: z.literal('enum'),
  values: z.array(z.string()).min(1),
  default: z.string(),
  ...paramBase,
});

export const ParameterSchema = z
  .discriminatedUnion('type', [
    IntegerParameterSchema,
    NumberParameterSchema,
    StringParameterSchema,
    BooleanParameterSchema,
    EnumParameterSchema,
  ])
  .meta({ description: 'A typed run parameter; runs may override the default.' });

export const PARAMETER_TYPES = ['integer', 'number', 'string', 'boolean', 'enum'] as const;

export const PipelineInputSchema = z
  .strictObject({
    type: z.literal('dataset').default('dataset'),
    default: z
      .string()
      .regex(DATASET_REF_RE, {
        error: 'a dataset reference is name@version or name@latest, e.g. churn-raw@latest',
      })
      .optional(),
    description,
  })
  .meta({ description: 'Data bound when a run starts: a dataset reference (name@version|latest).' });

export type ParameterDefinition = z.output<typeof ParameterSchema>;
export type PipelineInputDefinition = z.output<typeof PipelineInputSchema>;
