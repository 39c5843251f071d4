/**
 * What every part of the engine shares (engine.ts builds it once and hands it to each part): the host
 * context, the store, the instances, the clock, the entity host, the episode workers, the lifecycle
 * flags and the tracking of in-flight work.
 *
 * Lifecycle: `started` is set once every stored instance is loaded (drain loops wait for it);
 * `draining` once a graceful stop begins (no new work is dispatched); `stopping` once it ends (no
 * episode or commit starts, errors are no longer reported). Each flag, once set, stays set.
 */
import type { Clock } from '../host/clock';
import type { HostContext } from '../host/types';
import type { EntityHost } from './entities';
import type { EpisodePool } from './episode-pool';
import type { Instance } from './instance';
import type { DurableStore } from './store';

/** Counters for benchmarks: orchestrator invocations, events they replayed, time spent in them. */
export interface EngineStats {
  episodes: number;
  replayedEvents: number;
  orchestratorMs: number;
  commits: number;
}

export interface EngineRuntime {
  readonly ctx: HostContext;
  readonly store: DurableStore;
  readonly instances: Map<string, Instance>;
  readonly clock: Clock;
  readonly entities: EntityHost;
  readonly stats: EngineStats;
  /** Worker threads for orchestrator episodes (none when `episodeTimeoutMs` is 0); set by `start()`. */
  pool: EpisodePool | undefined;
  /** Every stored instance is loaded: drain loops may run. */
  started: boolean;
  /** Stopping gracefully: no new work goes out, running work finishes and commits. */
  draining: boolean;
  /** Stopped: no episode or commit starts. */
  stopping: boolean;
  /** Keeps `p` among the work a stop waits for. */
  track<T>(p: Promise<T>): Promise<T>;
  /** Tracks a cleanup whose failure is only logged. */
  background(p: Promise<unknown>): void;
}
