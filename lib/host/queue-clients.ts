/**
 * Queue clients per connection setting, each queue created once on first use, and the watchers that
 * wake a listener when this host sends to its queue. Queue names are resolved and checked here.
 */
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { QueueConfigError } from './queue-settings';
import { resolveSetting } from './timers';
import type { BindingInfo } from './types';

/** Queue clients per connection setting, with queues created once on first use. */
export class QueueClients {
  private services = new Map<string, QueueServiceClient>();
  private created = new Map<string, Promise<unknown>>();
  private watchers = new Map<string, Array<() => void>>();

  /**
   * Calls `onMessage` when this host sends a message to the queue at `url` (an output binding), so
   * its listener polls at once instead of after its back-off — the WebJobs SDK's shared queue watcher.
   */
  watch(url: string, onMessage: () => void): void {
    const list = this.watchers.get(url) ?? [];
    list.push(onMessage);
    this.watchers.set(url, list);
  }

  notify(url: string): void {
    for (const w of this.watchers.get(url) ?? []) w();
  }

  connectionString(settingName: string | undefined): string {
    const name = settingName || 'AzureWebJobsStorage';
    const value = process.env[name] ?? process.env[`AzureWebJobs${name}`];
    if (!value)
      throw new QueueConfigError(
        `The queue binding's connection setting "${name}" is not set; add it to local.settings.json Values or the environment.`,
      );
    return value;
  }

  queue(settingName: string | undefined, queueName: string): QueueClient {
    const conn = this.connectionString(settingName);
    let svc = this.services.get(conn);
    if (!svc) {
      svc = QueueServiceClient.fromConnectionString(conn);
      this.services.set(conn, svc);
    }
    return svc.getQueueClient(queueName);
  }

  async ensure(client: QueueClient): Promise<void> {
    const key = client.url;
    let p = this.created.get(key);
    if (!p) {
      p = client.createIfNotExists();
      p.catch(() => this.created.delete(key));
      this.created.set(key, p);
    }
    await p;
  }
}

export function queueNameOf(binding: BindingInfo, functionName: string): string {
  const raw = binding.queueName;
  if (typeof raw !== 'string' || !raw.trim())
    throw new QueueConfigError(`Function "${functionName}": the queue binding has no queueName.`);
  const name = resolveSetting(raw.trim(), `Function "${functionName}" queueName`).toLowerCase();
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(name))
    throw new QueueConfigError(
      `Function "${functionName}": queue name "${name}" is not valid (3-63 lower-case letters, digits and single hyphens).`,
    );
  return name;
}
