import { z } from 'zod';
import { EnvironmentFieldSchema } from '../environments/spec';
import { ResourcesSchema } from '../compute/targets';
import { DURATION_RE, IDENT_RE, IDENT_RULE, descriptionField as description, orParameter } from './formats';

/**
 * The fields step kinds share: where a step's data comes from (`binding`), what it writes (`OutputSchema`),
 * its code and how it is run (`codeField`, `argsField`), and `commonStep`, the fields every kind takes
 * (compute, env, environment, resources, reuse, retries, timeout, after). Each kind's schema spreads or
 * picks these, so a field means the same in every kind.
 */

export const OutputSchema = z.strictObject({
  type: z.enum(['file', 'directory']).meta({ description: 'What the step writes at ${{outputs.NAME}}.' }),
  dataset: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
      error: 'a dataset name is lowercase letters, digits, ".", "_" or "-" (at most 63 characters)',
    })
    .optional()
    .meta({
      description:
        'Register the output as a new version of this dataset when the step succeeds. ' +
        'At most one step of a pipeline may write a given dataset.',
    }),
  description,
});
export type OutputDefinition = z.output<typeof OutputSchema>;

/** A step input binding: `${{pipeline.inputs.X}}`, `${{steps.S.outputs.O}}` or a dataset reference. */
export const binding = z.string().meta({
  description:
    'Where the data comes from: ${{pipeline.inputs.X}}, ${{steps.S.outputs.O}} or name@version|latest.',
});

export const commonStep = {
  description,
  compute: z
    .string()
    .regex(IDENT_RE, { error: `a compute target name is ${IDENT_RULE}` })
    .optional()
    .meta({ description: 'A compute target name.' }),
  env: z.record(z.string(), z.string()).optional().meta({
    description: 'Environment variables; values may use ${{parameters.X}}, ${{inputs.X}}, ${{outputs.X}}.',
  }),
  environment: EnvironmentFieldSchema.optional(),
  resources: ResourcesSchema.optional().meta({
    description:
      "What one attempt needs: {cpu, memoryGb, gpu}. The target's defaults fill the rest; more than the target offers fails at run start.",
  }),
  /** @default true */
  reuse: z.boolean().default(true).meta({
    description: 'Reuse earlier outputs when nothing that goes into the step changed. Default true.',
  }),
  /** @default 0 */
  retries: orParameter(
    z.int().min(0).max(10).meta({ description: 'Extra attempts after a failure. Default 0.' }),
  ).default(0),
  timeout: orParameter(
    z
      .string()
      .regex(DURATION_RE, { error: 'a timeout is a duration such as 90s, 30m, 2h or 1h30m' })
      .meta({ description: 'Wall-clock limit per attempt, e.g. 30m.' }),
  ).optional(),
  after: z.array(z.string()).optional().meta({
    description: 'Steps that must finish first although no data flows from them (order-only edges).',
  }),
};

/**
 * `code: { path, include }`: only the listed files of the directory belong to the step, so its cache key
 * (and the snapshot its job gets) covers those files alone (lib/snapshots/include.ts).
 */
export const CodeIncludeSchema = z.strictObject({
  path: z.string().min(1).meta({
    description:
      'The code directory, as a plain `code:` gives it (in files: relative; on the server: a snapshot).',
  }),
  include: z
    .array(z.string())
    .min(1)
    .meta({
      description:
        'Globs relative to the directory (train.py, common/**, *.py); a directory name keeps all under it. ' +
        "Only these files are the step's code: its cache key and its working directory hold nothing else.",
    }),
});
export type CodeInclude = z.output<typeof CodeIncludeSchema>;

/**
 * The output is always a string: the server turns `{ path, include }` into the snapshot of the included
 * files before validating (lib/pipelines/code-include.ts), so code past publish only sees a snapshot
 * reference. In a file, where the object is still there, the output is its directory.
 */
export const codeField = z
  .union([z.string().min(1), CodeIncludeSchema])
  .transform((c) => (typeof c === 'string' ? c : c.path))
  .optional()
  .meta({
    description:
      'The step working directory. In files: a directory relative to the definition (packed by `sluice publish`). ' +
      'On the server: snapshot:sha256:<64 hex>. Either form may be narrowed to some of its files with ' +
      '{ path, include: [globs] }.',
  });

/**
 * `args:` instead of `command:`: the program and its arguments, run without a shell, one element per
 * argument after placeholder substitution (Azure ML's `arguments=[...]`). A step gives one of the two.
 */
export const argsField = z.array(z.string()).min(1).optional().meta({
  description:
    'Program and arguments, run without a shell: one element per argument after ${{…}} substitution. Instead of `command`.',
});
