import type { CachedEnvironment } from '../environments/cached-environment';

/**
 * The shape of a compute target's live view (`GET /api/compute/{name}/live`) and of the agents' presence
 * rows it is made from. Its own file, with no imports but types from import-free files, so the CLI and
 * the dashboard's browser build read the same type the server writes.
 */

export interface AgentPresence {
  pool: string;
  agentId: string;
  version: string;
  heartbeatAt: string;
  /** `runId/jobId` of each running job. */
  running: string[];
  /** What the agent offers and what is free now (cpu, memoryGb, gpu). */
  capacity: { cpu: number; memoryGb: number; gpu: number };
  free: { cpu: number; memoryGb: number; gpu: number };
  /** Step environments prepared on this machine (lib/environments): their keys' first 12 hex. */
  cachedEnvironments: string[];
  /** The same environments in full (key, tool, python, packages, size, times), most recently used first. */
  environments?: CachedEnvironment[];
}

export interface TargetLiveView {
  name: string;
  backend: 'agent' | 'slurm';
  at: string;
  /** Jobs waiting for an agent (approximate, from the queue) or PENDING in Slurm. */
  queueDepth: number;
  agents?: Array<AgentPresence & { heartbeatAgeMs: number }>;
  slurmJobs?: Array<{
    id: string;
    state: string;
    reason: string;
    name: string;
    elapsed: string;
    node: string;
  }>;
  /** Why part of the view is missing (the controller did not answer), when it is. */
  problems?: string[];
}
