import { z } from 'zod';

/**
 * The formats of names and values in a pipeline definition: each regular expression with its rule in
 * words (messages quote the rule), durations, and the two field builders every schema module shares
 * (free text, a number or a parameter placeholder). The schemas (schema.ts and the *-schema.ts modules)
 * and the validator (validate.ts) use these and no copies of them.
 */

/** Pipeline names: they appear in URLs and Cosmos partition keys, so they are kept URL- and id-safe. */
export const PIPELINE_NAME_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
export const PIPELINE_NAME_RULE =
  'lowercase letters, digits and "-", 3–63 characters, starting and ending with a letter or digit';

/** Names of steps, parameters, inputs and outputs: they appear inside `${{…}}` placeholders. */
export const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const IDENT_RULE = 'a letter or "_" followed by letters, digits, "_" or "-" (at most 64 characters)';

/** Environment variable names; `SLUICE_` is reserved for what the agent sets. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Dataset references: `name@3` or `name@latest`. */
export const DATASET_REF_RE = /^([a-z0-9][a-z0-9._-]{0,62})@(latest|[1-9][0-9]*)$/;

/** The only `code` the server accepts: a content-addressed snapshot uploaded via POST /api/snapshots. */
export const SNAPSHOT_REF_RE = /^snapshot:sha256:[0-9a-f]{64}$/;

/** `30m`, `90s`, `2h`, `1h30m`, `500ms`. */
export const DURATION_RE = /^(?=\d)(\d+h)?(\d+m(?!s))?(\d+s)?(\d+ms)?$/;

/** A whole-value parameter placeholder, `${{parameters.NAME}}`: accepted by numeric step fields. */
export const PARAM_PLACEHOLDER_RE = /^\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_-]{0,63})\s*\}\}$/;

/** Milliseconds in a duration such as `1h30m`; undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m) return undefined;
  const [, h, mi, s, ms] = m;
  return ((Number(h ?? 0) * 60 + Number(mi ?? 0)) * 60 + Number(s ?? 0)) * 1000 + Number(ms ?? 0);
}

/**
 * A numeric (or duration) step field that may instead hold `${{parameters.NAME}}`. The placeholder is
 * typed and range-checked against `base` when a run starts (lib/pipelines/numeric-fields.ts), and runs
 * see the resolved number: the static type stays `base`'s, so code past run start never sees a string.
 */
export function orParameter<T extends z.ZodType>(base: T): T {
  const placeholder = z.string().regex(PARAM_PLACEHOLDER_RE, {
    error: 'a parameter placeholder is ${{parameters.NAME}}, the whole value',
  });
  return z.union([base, placeholder]).meta({
    description:
      `${String(base.meta()?.description ?? '')} May be \${{parameters.NAME}}, checked when a run starts.`.trim(),
  }) as unknown as T;
}

/** The optional free-text `description` of the pipeline, its parameters, inputs, steps and outputs. */
export const descriptionField = z
  .string()
  .max(2000)
  .optional()
  .meta({ description: 'Free text shown in listings.' });
