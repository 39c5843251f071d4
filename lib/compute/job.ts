/**
 * The job protocol between the run orchestration (lib/runs) and compute agents (lib/compute/agent).
 * A job is a message on the storage queue `sluice-jobs-<pool>`; its state lives in the Table
 * `sluicejobs` (partition = runId, row = jobId), which the agent updates (claim, heartbeat, result) and
 * the orchestration polls. On completion the agent also raises the durable event `job:<jobId>` on the
 * step's orchestration instance (`notify.instanceId`) for low latency.
 */
import type { EnvironmentRecord } from '../environments/agent-hook';
import type { StepImage } from '../environments/images';
import type { NormalizedSpec } from '../environments/spec';

/** Where an input comes from: a content-addressed artifact (file or directory manifest). */
export interface JobInput {
  name: string;
  /** `sha256:<hex>` of the file, or of the directory's manifest. */
  hash: string;
  type: 'file' | 'directory';
}

export interface JobOutputSpec {
  name: string;
  type: 'file' | 'directory';
}

export interface JobSpec {
  jobId: string;
  runId: string;
  stepName: string;
  attempt: number;
  /**
   * parallelRun: the mini-batch's index; automl: the trial's. Each batch keeps its own attempts and its own
   * log (`<runId>/<step>/batch-<n>/<attempt>.log`), apart from the step's other batches.
   */
  batch?: number;
  pool: string;
  /**
   * parallelRun: this job is a shard, a run of contiguous mini-batches (lib/compute/shard.ts). Its input
   * `input` is a directory with one entry per mini-batch named by its index (a directory of the batch's
   * files, or a file of its lines); the runner runs the command once per mini-batch, retries a failed one
   * itself, and reports each mini-batch's fate in `JobResult.miniBatches`. Its log is one blob with a
   * `==> batch N, attempt A <==` section per mini-batch attempt.
   */
  shard?: ShardSpec;
  /**
   * The compute target the step runs on (lib/compute/targets); its backend (agent pool, Slurm) takes the
   * job. Absent on jobs enqueued before targets had backends: those go to the pool's agents.
   */
  target?: string;
  /** What the step asked for (with its target's defaults applied); Slurm maps it to sbatch flags. */
  resources?: StepResources;
  /**
   * The step kind. Agents run `command` jobs; `parallelRun` mini-batch jobs, which also get
   * `${{minibatch}}` (a file listing the batch's paths); and `automl` trials, which arrive as plain
   * commands with the trial's values already substituted. `dataTransfer` never reaches an agent.
   */
  kind: string;
  /**
   * The command after parameter substitution. `${{inputs.X}}` and `${{outputs.X}}` are still present;
   * the agent replaces them with the local paths it materialises.
   */
  command: string;
  /**
   * Instead of `command`: the program and its arguments, executed without a shell, one element per
   * argument. `${{inputs.X}}`/`${{outputs.X}}`/`${{minibatch}}` are replaced inside elements as they are.
   */
  args?: string[];
  env: Record<string, string>;
  /** The step's environment (a named one already resolved): built or found by the agent before the command runs. */
  environment?: NormalizedSpec;
  /** The registered environment the step named (`name@version`): the agent's cache lists it by this name. */
  environmentName?: string;
  /** The run parameters the step references, for the Python helper (`sluice.run.parameter`). */
  parameters?: Record<string, unknown>;
  /** `snapshot:sha256:<hex>` of the step's code, extracted as the working directory; absent for none. */
  code?: string;
  inputs: JobInput[];
  outputs: JobOutputSpec[];
  /** Wall-clock limit for the process, in ms. */
  timeoutMs: number;
  /** Where to report completion quickly (durable external event), besides the job table. */
  notify?: { instanceId: string; eventName: string };
  createdAt: string;
}

export interface ShardSpec {
  /** The first mini-batch's index, and how many the shard runs. */
  first: number;
  count: number;
  /** What each mini-batch is: a directory of files, or a file of lines. */
  batchType: 'file' | 'directory';
  /** Extra attempts per failed mini-batch (the step's `retries`), after the step's back-off. */
  retries: number;
  /** How the shard lays its mini-batches' outputs out (see ShardReport). */
  outputAction: 'appendRow' | 'summaryOnly';
}

/** A step's resource request: `resources: {cpu, memoryGb, gpu}` in the pipeline definition. */
export interface StepResources {
  cpu?: number;
  memoryGb?: number;
  gpu?: number;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

/** Why a job failed: a closed family; `lib/runs` decides retry and step status from it. */
export type JobFailureCode =
  | 'exit-code' // the user's process exited non-zero
  | 'timeout' // the process exceeded timeoutMs and was killed
  | 'lost' // the agent stopped heartbeating
  | 'missing-input' // an input artifact no longer exists
  | 'missing-output' // the process exited 0 without writing a declared output (or wrote the wrong type)
  | 'canceled' // the run was canceled
  | 'environment' // the step's environment cannot be built (a package or Python version that does not resolve)
  | 'platform'; // anything else outside the user's code (storage, spawn failure)

export interface JobOutput {
  name: string;
  type: 'file' | 'directory';
  hash: string;
  size: number;
}

export interface JobResult {
  jobId: string;
  state: Exclude<JobState, 'queued' | 'running'>;
  exitCode?: number;
  failure?: { code: JobFailureCode; message: string };
  outputs: JobOutput[];
  metrics: Array<{ name: string; value: number; step?: number; time?: string }>;
  startedAt?: string;
  finishedAt: string;
  /** The environment the step ran in: build key and the exact versions installed. */
  environment?: EnvironmentRecord;
  /** Images the step logged (`sluice.run.log_image`), stored by content. */
  images?: StepImage[];
  /** A shard job's mini-batches: how many succeeded, which finally failed, and the first failed attempts. */
  miniBatches?: {
    succeeded: number;
    failed: number[];
    errors: Array<{ batch: number; attempt: number; code: string; message: string }>;
  };
  /** ms spent in the user's process, for overhead accounting. */
  processMs?: number;
  agentId: string;
}

export const JOBS_TABLE = 'sluicejobs';
export const jobQueueName = (pool: string): string => `sluice-jobs-${pool}`;
