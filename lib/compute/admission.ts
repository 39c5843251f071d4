/**
 * What an agent admits: jobs by the resources they ask for against what the machine offers, so a 2-GPU
 * agent runs two 1-GPU jobs or one 2-GPU job. Pure bookkeeping (the agent does the I/O); a model-based
 * test drives it with random sequences.
 */
import os from 'node:os';
import type { StepResources } from './job';

export interface Capacity {
  cpu: number;
  memoryGb: number;
  gpu: number;
}

/**
 * A job that asks for no CPUs counts a quarter of one: most steps without a request are short and wait
 * on I/O, so a 2-core machine runs 8 of them at once (the old fixed count), an 8-core one 32.
 */
export const DEFAULT_JOB_CPU = 0.25;

export function needOf(r: StepResources | undefined): Capacity {
  return { cpu: r?.cpu ?? DEFAULT_JOB_CPU, memoryGb: r?.memoryGb ?? 0, gpu: r?.gpu ?? 0 };
}

/** This machine: its CPUs and memory; GPUs only when declared (`sluice agent --gpus N`). */
export function machineCapacity(gpus = 0): Capacity {
  return {
    cpu: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    memoryGb: Math.floor((os.totalmem() / 2 ** 30) * 10) / 10,
    gpu: gpus,
  };
}

const EPS = 1e-9;

export class Ledger {
  private readonly held = new Map<string, Capacity>();
  private used: Capacity = { cpu: 0, memoryGb: 0, gpu: 0 };

  constructor(
    readonly capacity: Capacity,
    /** A cap on the number of jobs (`--concurrency`); unlimited by default. */
    readonly maxJobs = Infinity,
  ) {}

  /** Whether `need` could ever run here (no bigger than the whole machine). */
  canEverFit(need: Capacity): boolean {
    return (
      need.cpu <= this.capacity.cpu + EPS &&
      need.memoryGb <= this.capacity.memoryGb + EPS &&
      need.gpu <= this.capacity.gpu + EPS
    );
  }

  fits(need: Capacity): boolean {
    if (this.held.size >= this.maxJobs) return false;
    const u = this.used;
    // A job that can never fit is never admitted; one alone on an idle machine always is (so a request a
    // little above a core count still runs), as long as the machine offers it.
    if (!this.canEverFit(need)) return false;
    return (
      u.cpu + need.cpu <= this.capacity.cpu + EPS &&
      u.memoryGb + need.memoryGb <= this.capacity.memoryGb + EPS &&
      u.gpu + need.gpu <= this.capacity.gpu + EPS
    );
  }

  /** Holds `need` for `key` when it fits; false otherwise (and when `key` is already held). */
  take(key: string, need: Capacity): boolean {
    if (this.held.has(key) || !this.fits(need)) return false;
    this.held.set(key, need);
    this.used = add(this.used, need, 1);
    return true;
  }

  give(key: string): void {
    const need = this.held.get(key);
    if (!need) return;
    this.held.delete(key);
    this.used = add(this.used, need, -1);
  }

  get count(): number {
    return this.held.size;
  }

  free(): Capacity {
    return {
      cpu: round(this.capacity.cpu - this.used.cpu),
      memoryGb: round(this.capacity.memoryGb - this.used.memoryGb),
      gpu: round(this.capacity.gpu - this.used.gpu),
    };
  }

  /** Room for at least the smallest job (one asking for nothing). */
  hasRoom(): boolean {
    return this.fits(needOf(undefined));
  }
}

function add(a: Capacity, b: Capacity, sign: 1 | -1): Capacity {
  return { cpu: a.cpu + sign * b.cpu, memoryGb: a.memoryGb + sign * b.memoryGb, gpu: a.gpu + sign * b.gpu };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
