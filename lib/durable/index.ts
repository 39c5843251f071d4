/**
 * The Durable Functions engine of the local host. STUB: the signature is the contract;
 * lib/durable owns the implementation.
 */
import type { HostExtension } from '../host/types';

export interface DurableEngineOptions {
  /** Overrides `extensions.durableTask.hubName`. */
  hubName?: string;
}

export function createDurableExtension(_opts: DurableEngineOptions = {}): HostExtension {
  return {
    name: 'durable',
    triggerTypes: ['orchestrationTrigger', 'activityTrigger', 'entityTrigger'],
    async start() {
      throw new Error('lib/durable: the durable engine is not implemented yet');
    },
    async stop() {},
  };
}
