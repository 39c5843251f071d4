/**
 * A job's working directory before its command runs: placeholders substituted first (a typo fails in
 * milliseconds, before any download), then the code snapshot extracted, the inputs materialised, the
 * output directories made and a parallelRun batch's `${{minibatch}}` listing written. What the user can
 * fix (an unknown placeholder, a missing input or snapshot) is an outcome, not a throw. The command's
 * environment never carries the runner's own credentials.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { materialize } from '../data/cas';
import { DataError } from '../data/errors';
import { extractCode } from './code';
import type { JobOutcome } from './failures';
import type { JobSpec } from './job';
import { safeName, substituteJob } from './job-local';
import type { BlobLogWriter } from './log-stream';
import { unknownPlaceholderMessage, type PlaceholderPaths } from './placeholders';

/** Environment variables never passed to user commands: the runner's own credentials. */
const SECRET_ENV =
  /^(AzureWebJobsStorage|COSMOS_KEY|SLUICE_KEY|.*(_KEY|SECRET|PASSWORD|CONNECTION_STRING|_TOKEN))$/i;

export type Prepared =
  | { command: string; argv?: string[]; env: Record<string, string>; paths: PlaceholderPaths }
  | { outcome: JobOutcome };

export async function prepare(
  spec: JobSpec,
  dirs: { codeDir: string; inputsDir: string; outputsDir: string },
  logw: BlobLogWriter,
  canceled: () => boolean,
): Promise<Prepared> {
  const paths: PlaceholderPaths = { inputs: {}, outputs: {} };
  for (const i of spec.inputs) paths.inputs[i.name] = join(dirs.inputsDir, safeName(i.name));
  const batchInput = spec.kind === 'parallelRun' ? paths.inputs.input : undefined;
  if (batchInput) paths.minibatch = join(dirs.inputsDir, '..', 'minibatch.txt');
  for (const o of spec.outputs) paths.outputs[o.name] = join(dirs.outputsDir, safeName(o.name));

  // Placeholders first: a typo fails in milliseconds, before any download.
  const { command, argv, env, unknown } = substituteJob(spec, paths);
  if (unknown.length)
    return {
      outcome: {
        kind: 'missing-input',
        message: unknownPlaceholderMessage('command or env', [...new Set(unknown)], paths),
      },
    };

  if (spec.code) {
    logw.note(`extracting code ${spec.code}`);
    const r = await extractCode(spec.code, dirs.codeDir);
    if (!r.ok)
      return {
        outcome: r.missing
          ? {
              kind: 'missing-input',
              message: `The code snapshot ${spec.code} is not available: ${r.message}`,
            }
          : { kind: 'platform', message: `Extracting the code snapshot ${spec.code} failed: ${r.message}` },
      };
  }
  for (const i of spec.inputs) {
    if (canceled()) return { outcome: { kind: 'canceled' } };
    logw.note(`materialising input ${i.name} (${i.type} ${i.hash})`);
    try {
      const r = await materialize(i.hash, i.type, paths.inputs[i.name]!);
      logw.note(`input ${i.name}: ${r.files} file(s), ${r.size} bytes`);
    } catch (e) {
      if (
        e instanceof DataError &&
        (e.code === 'artifact-not-found' || e.code === 'invalid-hash' || e.code === 'not-a-directory')
      )
        return {
          outcome: {
            kind: 'missing-input',
            message: `Input "${i.name}" (${i.type} ${i.hash}) cannot be materialised: ${e.message}`,
          },
        };
      throw e;
    }
  }
  for (const o of spec.outputs)
    if (o.type === 'directory') await mkdir(paths.outputs[o.name]!, { recursive: true });
  // A parallelRun batch job: ${{minibatch}} is a file of the batch's absolute paths, one a line, in order.
  if (batchInput && paths.minibatch && !spec.shard) {
    // A batch of lines is one file: the listing names it.
    const files = spec.inputs.some((i) => i.name === 'input' && i.type === 'file')
      ? [batchInput]
      : (await readdir(batchInput, { recursive: true, withFileTypes: true }))
          .filter((d) => d.isFile())
          .map((d) => join(d.parentPath, d.name))
          .sort();
    await writeFile(paths.minibatch, files.map((f) => `${f}\n`).join(''));
  }
  if (canceled()) return { outcome: { kind: 'canceled' } };
  // For the Python helper (sluice.run.input/output/parameter): names → paths, as JSON.
  Object.assign(env, {
    SLUICE_INPUTS: JSON.stringify(paths.inputs),
    SLUICE_OUTPUTS: JSON.stringify(paths.outputs),
    SLUICE_PARAMETERS: JSON.stringify(spec.parameters ?? {}),
  });
  return argv ? { command, argv, env, paths } : { command, env, paths };
}

/**
 * The command's environment: the runner's own (without its credentials), the spec's, the step
 * environment's, then Sluice's variables (`SLUICE_METRICS`, `SLUICE_IMAGES`, the job's ids).
 */
export function commandEnv(
  spec: JobSpec,
  jobRoot: string,
  metricsFile: string,
  specEnv: Record<string, string>,
  stepEnv: Record<string, string>,
): NodeJS.ProcessEnv {
  return {
    ...baseEnv(),
    ...specEnv,
    ...stepEnv,
    SLUICE_METRICS: metricsFile,
    SLUICE_IMAGES: join(jobRoot, 'images'),
    SLUICE_RUN_ID: spec.runId,
    SLUICE_STEP: spec.stepName,
    SLUICE_JOB_ID: spec.jobId,
    SLUICE_ATTEMPT: String(spec.attempt),
    ...(spec.batch !== undefined ? { SLUICE_BATCH: String(spec.batch) } : {}),
  };
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SECRET_ENV.test(k)) env[k] = v;
  return env;
}
