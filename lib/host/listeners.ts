/**
 * The host's own trigger listeners, one per enabled function: timers (as singletons across hosts),
 * storage queues and blob triggers. Each is built from the function's trigger binding; a binding
 * that cannot work is a start-up error, collected so every one is reported at once.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { Clock } from './clock';
import type { BlobBindings } from './blobs';
import {
  BLOB_POISON_QUEUE,
  BLOB_SCAN_INTERVAL_MS,
  BlobTriggerListener,
  blobPoisonThreshold,
  parseBlobTriggerPath,
} from './blob-trigger';
import type { FunctionEntry, Invoker } from './invoker';
import { SingletonListener, type listenerLockSettings } from './listener-lock';
import { queueNameOf, type QueueClients } from './queue-clients';
import { encodeMessage } from './queue-messages';
import type { QueueSettings } from './queue-settings';
import { QueueListener } from './queues';
import { retryPolicy } from './retry';
import { defaultUseMonitor, parseSchedule, resolveSetting, ScheduleMonitor, TimerListener } from './timers';
import type { HostExtension, HostLogger } from './types';

export interface ListenerDeps {
  entries: ReadonlyMap<string, FunctionEntry>;
  disabled: ReadonlySet<string>;
  extensionTriggers: ReadonlyMap<string, HostExtension>;
  invoker: Invoker;
  log: HostLogger;
  clock: Clock;
  hostId: string;
  lockSettings: ReturnType<typeof listenerLockSettings>;
  hostJson: Record<string, any>;
  queueSettings: QueueSettings;
  queueClients: QueueClients;
  /** Blob bindings: their clients, and the wake-up when an output writes to a watched container. */
  blobs: BlobBindings;
  /** Where start-up errors are collected. */
  startupErrors: string[];
}

export interface Listeners {
  timers: SingletonListener[];
  queues: QueueListener[];
  blobTriggers: BlobTriggerListener[];
  /** `azure-webjobs-hosts` in AzureWebJobsStorage (leases, receipts); undefined without storage. */
  locks: ContainerClient | undefined;
}

export function createListeners(d: ListenerDeps): Listeners {
  const { entries, disabled, extensionTriggers, invoker, log, clock, hostId, lockSettings, hostJson } = d;
  const { queueClients, blobs, startupErrors } = d;
  const qSettings = d.queueSettings;
  const timers: SingletonListener[] = [];
  const queues: QueueListener[] = [];
  const storage = process.env.AzureWebJobsStorage;
  const blobTriggers: BlobTriggerListener[] = [];
  blobs.onWritten = (url) => blobTriggers.forEach((b) => b.containerUrl === url && b.poke());
  const monitor = storage ? new ScheduleMonitor(storage, hostId) : undefined;
  const locks = storage
    ? BlobServiceClient.fromConnectionString(storage).getContainerClient('azure-webjobs-hosts')
    : undefined;
  for (const entry of entries.values()) {
    const t = entry.fn.trigger;
    if (disabled.has(entry.fn.name)) continue;
    try {
      if (entry.triggerType === 'timertrigger') {
        const schedule = parseSchedule(
          resolveSetting(String(t.schedule ?? ''), `Timer "${entry.fn.name}" schedule`),
          entry.fn.name,
        );
        const useMonitor =
          t.useMonitor === undefined ? defaultUseMonitor(schedule, clock.now()) : Boolean(t.useMonitor);
        if (useMonitor && !monitor)
          log.warn(
            `Timer '${entry.fn.name}': AzureWebJobsStorage is not set; missed occurrences will not be detected.`,
          );
        const retry = retryPolicy(entry.fn.retryOptions);
        timers.push(
          new SingletonListener({
            functionName: entry.fn.name,
            container: locks,
            hostId,
            settings: lockSettings,
            log,
            createListener: () =>
              new TimerListener({
                functionName: entry.fn.name,
                schedule,
                runOnStartup: Boolean(t.runOnStartup),
                useMonitor,
                monitor,
                invoke: (value, retryContext) =>
                  invoker.invoke(entry, {
                    value,
                    retryContext,
                    logDetail: retryContext
                      ? `retry ${retryContext.retryCount}/${retryContext.maxRetryCount}`
                      : value.isPastDue
                        ? 'isPastDue'
                        : undefined,
                  }),
                retry,
                hold: () => invoker.hold(),
                log,
              }),
          }),
        );
      } else if (entry.triggerType === 'queuetrigger') {
        queues.push(
          new QueueListener({
            functionName: entry.fn.name,
            queueName: queueNameOf(t, entry.fn.name),
            connection: t.connection as string | undefined,
            settings: qSettings,
            clients: queueClients,
            invoke: (value, triggerMetadata, logDetail) =>
              invoker.invoke(entry, { value, triggerMetadata, logDetail }),
            log,
          }),
        );
        queueClients.connectionString(t.connection as string | undefined);
      } else if (entry.triggerType === 'blobtrigger') {
        if (!locks)
          throw new Error(
            `Function "${entry.fn.name}": blob triggers keep their receipts in AzureWebJobsStorage, which is not set.`,
          );
        const what = `Function "${entry.fn.name}" trigger`;
        const service = blobs.service(t, what);
        const poisonQueue = queueClients.queue(t.connection as string | undefined, BLOB_POISON_QUEUE);
        const asString = String(t.dataType ?? '').toLowerCase() === 'string';
        blobTriggers.push(
          new BlobTriggerListener({
            functionName: entry.fn.name,
            hostId,
            path: parseBlobTriggerPath(resolveSetting(String(t.path ?? ''), what), entry.fn.name),
            blobs: service,
            receipts: locks,
            poison: async (message) => {
              await queueClients.ensure(poisonQueue);
              await poisonQueue.sendMessage(encodeMessage(message, qSettings.messageEncoding));
              queueClients.notify(poisonQueue.url);
            },
            maxDequeueCount: blobPoisonThreshold(hostJson, qSettings.maxDequeueCount),
            scanIntervalMs: Math.min(BLOB_SCAN_INTERVAL_MS, qSettings.maxPollingIntervalMs),
            concurrency: qSettings.batchSize,
            invoke: (content, triggerMetadata, logDetail) =>
              invoker.invoke(entry, {
                value: asString ? content.toString('utf8') : content,
                triggerMetadata,
                logDetail,
              }),
            hold: () => invoker.hold(),
            log,
          }),
        );
      } else if (!entry.isHttp && !extensionTriggers.has(entry.triggerType)) {
        log.warn(
          `Function '${entry.fn.name}': trigger type '${t.type}' has no listener in the local host; start it with POST /admin/functions/${entry.fn.name}.`,
        );
      }
    } catch (e) {
      startupErrors.push((e as Error).message);
    }
  }
  return { timers, queues, blobTriggers, locks };
}
