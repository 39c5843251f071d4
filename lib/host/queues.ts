/**
 * Azure Storage queue triggers and queue output bindings, with the Functions host's semantics
 * (host.json `extensions.queues`): polling with back-off up to `maxPollingInterval`, `batchSize` +
 * `newBatchThreshold` concurrency, `visibilityTimeout` before a failed message is retried, base64 or
 * plain encoding, and `<queue>-poison` after `maxDequeueCount` attempts.
 */
import { availableParallelism } from 'node:os';
import { QueueServiceClient, type QueueClient, type DequeuedMessageItem } from '@azure/storage-queue';
import { getClock, type ClockTimer } from './clock';
import type { BindingInfo, HostLogger } from './types';
import { resolveSetting } from './timers';

export class QueueConfigError extends Error {
  override name = 'QueueConfigError';
}

/** Parses a host.json duration: `"hh:mm:ss[.fff]"`, `"d.hh:mm:ss"`, or a number of milliseconds. */
export function parseDuration(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(value.trim());
    if (m) {
      const [, d, h, mi, s, f] = m;
      return (
        ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(mi)) * 60_000 +
        Number(s) * 1000 +
        (f ? Math.round(Number('0.' + f) * 1000) : 0)
      );
    }
  }
  throw new QueueConfigError(
    `host.json ${what} is ${JSON.stringify(value)}; use a TimeSpan like "00:00:30".`,
  );
}

export interface QueueSettings {
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  messageEncoding: 'base64' | 'none';
}

/** `extensions.queues` with the Functions defaults (reference §7). */
export function queueSettings(hostJson: Record<string, any>): QueueSettings {
  const q = (hostJson?.extensions?.queues ?? {}) as Record<string, unknown>;
  const batchSize = Math.min(32, Math.max(1, Number(q.batchSize ?? 16) || 16));
  const encoding = String(q.messageEncoding ?? 'base64').toLowerCase();
  if (encoding !== 'base64' && encoding !== 'none')
    throw new QueueConfigError(
      `host.json extensions.queues.messageEncoding is "${encoding}"; use "base64" or "none".`,
    );
  return {
    maxPollingIntervalMs: Math.max(
      100,
      parseDuration(q.maxPollingInterval, 'extensions.queues.maxPollingInterval') ?? 60_000,
    ),
    visibilityTimeoutMs: parseDuration(q.visibilityTimeout, 'extensions.queues.visibilityTimeout') ?? 0,
    batchSize,
    newBatchThreshold: Math.max(
      0,
      Number(q.newBatchThreshold ?? Math.floor((availableParallelism() * batchSize) / 2)),
    ),
    maxDequeueCount: Math.max(1, Number(q.maxDequeueCount ?? 5) || 5),
    messageEncoding: encoding,
  };
}

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

/** Encodes a message body for the queue per `messageEncoding`. */
export function encodeMessage(text: string | Buffer, encoding: 'base64' | 'none'): string {
  if (encoding === 'base64')
    return (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('base64');
  return typeof text === 'string' ? text : text.toString('utf8');
}

function decodeMessage(raw: string, encoding: 'base64' | 'none'): string | undefined {
  if (encoding === 'none') return raw;
  const compact = raw.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

function tryJsonParse(text: string): unknown {
  const c = text.charCodeAt(0);
  // Skip the exception path for obvious plain text (the common case for non-JSON messages).
  if (!(
    c === 123 ||
    c === 91 ||
    c === 34 ||
    c === 45 ||
    (c >= 48 && c <= 57) ||
    c === 116 ||
    c === 102 ||
    c === 110
  ))
    return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface QueueTriggerOptions {
  functionName: string;
  queueName: string;
  connection: string | undefined;
  settings: QueueSettings;
  clients: QueueClients;
  invoke(value: unknown, metadata: Record<string, unknown>, detail: string): Promise<unknown>;
  log: HostLogger;
}

const MIN_POLL_MS = 100;
/** How long a received message stays invisible while its function runs (the Functions default). */
const PROCESSING_VISIBILITY_S = 600;

/** One queue-triggered function's listener. */
export class QueueListener {
  private stopped = false;
  private active = 0;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private delay = MIN_POLL_MS;
  private queue: QueueClient;
  private poison: QueueClient;
  private work = new Set<Promise<void>>();
  private warnedError = '';

  constructor(private readonly o: QueueTriggerOptions) {
    this.queue = o.clients.queue(o.connection, o.queueName);
    this.poison = o.clients.queue(o.connection, `${o.queueName}-poison`);
    o.clients.watch(this.queue.url, () => {
      this.delay = MIN_POLL_MS;
      this.wake?.();
    });
  }

  async start(): Promise<void> {
    // Storage that is down at start is not fatal: polling reports it and creates the queue later.
    await this.o.clients
      .ensure(this.queue)
      .catch((e) =>
        this.o.log.warn(
          `Queue '${this.o.queueName}': cannot create it yet (${(e as Error).message}); will retry.`,
        ),
      );
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const s = this.o.settings;
    while (!this.stopped) {
      if (this.active > s.newBatchThreshold) {
        await this.sleep(s.maxPollingIntervalMs);
        continue;
      }
      let messages: DequeuedMessageItem[] = [];
      try {
        const r = await this.queue.receiveMessages({
          numberOfMessages: s.batchSize,
          visibilityTimeout: PROCESSING_VISIBILITY_S,
        });
        messages = r.receivedMessageItems;
        this.warnedError = '';
      } catch (e) {
        const msg = (e as Error).message;
        if (msg !== this.warnedError)
          this.o.log.warn(
            `Queue '${this.o.queueName}' (function '${this.o.functionName}'): polling failed: ${msg}`,
          );
        this.warnedError = msg;
        if ((e as { statusCode?: number }).statusCode === 404)
          await this.o.clients.ensure(this.queue).catch(() => {});
      }
      if (this.stopped) {
        // Received but not started: make them visible again at once rather than after the lease.
        await Promise.all(
          messages.map((m) =>
            this.queue.updateMessage(m.messageId, m.popReceipt, undefined, 0).catch(() => {}),
          ),
        );
        break;
      }
      if (messages.length > 0) {
        this.delay = MIN_POLL_MS;
        for (const m of messages) {
          this.active++;
          const p = this.process(m).finally(() => {
            this.active--;
            this.work.delete(p);
            if (this.active <= s.newBatchThreshold) this.wake?.();
          });
          this.work.add(p);
        }
        if (messages.length === s.batchSize && this.active <= s.newBatchThreshold) continue;
        await this.sleep(MIN_POLL_MS);
      } else {
        await this.sleep(this.delay);
        this.delay = Math.min(s.maxPollingIntervalMs, this.delay * 2);
      }
    }
  }

  /** Waits `ms` of real time or of the process clock, whichever comes first, or until woken. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let clockTimer: ClockTimer | undefined;
      const done = (): void => {
        clearTimeout(t);
        clockTimer?.cancel();
        this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      const clock = getClock();
      if (clock.manual) clockTimer = clock.setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async process(m: DequeuedMessageItem): Promise<void> {
    const s = this.o.settings;
    const text = decodeMessage(m.messageText, s.messageEncoding);
    if (text === undefined) {
      await this.toPoison(
        m,
        'the message is not base64 text; send base64 messages or set host.json extensions.queues.messageEncoding to "none"',
      );
      return;
    }
    if (m.dequeueCount > s.maxDequeueCount) {
      await this.toPoison(m, `dequeueCount ${m.dequeueCount} is over maxDequeueCount ${s.maxDequeueCount}`);
      return;
    }
    const metadata = {
      dequeueCount: m.dequeueCount,
      id: m.messageId,
      insertionTime: m.insertedOn.toISOString(),
      expirationTime: m.expiresOn.toISOString(),
      nextVisibleTime: m.nextVisibleOn.toISOString(),
      popReceipt: m.popReceipt,
      queueTrigger: text,
    };
    // Keep the message invisible while the function runs longer than the lease, as the Functions
    // host does; every later step uses the newest pop receipt.
    let renewing: Promise<void> | undefined;
    const renew = setInterval(
      () => {
        renewing = this.queue
          .updateMessage(m.messageId, m.popReceipt, undefined, PROCESSING_VISIBILITY_S)
          .then((r) => {
            if (r.popReceipt) m.popReceipt = r.popReceipt;
          })
          .catch((x) =>
            this.o.log.warn(
              `Queue '${this.o.queueName}': cannot extend message ${m.messageId}: ${(x as Error).message}`,
            ),
          );
      },
      (PROCESSING_VISIBILITY_S * 1000) / 2,
    );
    renew.unref();
    try {
      try {
        await this.o.invoke(
          tryJsonParse(text),
          metadata,
          `queue=${this.o.queueName}, dequeueCount=${m.dequeueCount}`,
        );
      } finally {
        clearInterval(renew);
        await renewing;
      }
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e?.name === 'PoisonMessageError') {
        await this.toPoison(m, `the function rejected it: ${e.message ?? ''}`);
      } else if (m.dequeueCount >= s.maxDequeueCount) {
        await this.toPoison(m, `it failed ${m.dequeueCount} times (maxDequeueCount ${s.maxDequeueCount})`);
      } else {
        await this.queue
          .updateMessage(m.messageId, m.popReceipt, undefined, Math.ceil(s.visibilityTimeoutMs / 1000))
          .catch((x) =>
            this.o.log.warn(
              `Queue '${this.o.queueName}': cannot release message ${m.messageId}: ${(x as Error).message}`,
            ),
          );
      }
      return;
    }
    await this.queue
      .deleteMessage(m.messageId, m.popReceipt)
      .catch((x) =>
        this.o.log.warn(
          `Queue '${this.o.queueName}': message ${m.messageId} was handled but could not be deleted (${(x as Error).message}); it may run again.`,
        ),
      );
  }

  private async toPoison(m: DequeuedMessageItem, reason: string): Promise<void> {
    try {
      await this.o.clients.ensure(this.poison);
      // The original text, unchanged, so the message can be inspected and re-queued as it was.
      await this.poison.sendMessage(m.messageText);
      await this.queue.deleteMessage(m.messageId, m.popReceipt);
      this.o.log.warn(
        `Queue '${this.o.queueName}': message ${m.messageId} moved to '${this.o.queueName}-poison': ${reason}.`,
      );
    } catch (e) {
      this.o.log.error(
        `Queue '${this.o.queueName}': cannot move message ${m.messageId} to poison: ${(e as Error).message}`,
      );
    }
  }

  /** Stops polling; running messages finish under the invoker's bounded drain. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Waits for this listener's running messages (including their delete/poison step). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.work]);
  }
}

/** Writes queue output bindings (`output.storageQueue`) from the invocation model's typed data. */
export async function writeQueueOutput(
  clients: QueueClients,
  settings: QueueSettings,
  binding: BindingInfo,
  functionName: string,
  data: Record<string, unknown>,
): Promise<void> {
  const client = clients.queue(binding.connection as string | undefined, queueNameOf(binding, functionName));
  await clients.ensure(client);
  const messages: Array<string | Buffer> = [];
  if (typeof data.string === 'string') messages.push(data.string);
  else if (typeof data.json === 'string') {
    const v = JSON.parse(data.json) as unknown;
    // An array sends one message per element, as the Functions queue binding does.
    if (Array.isArray(v)) for (const x of v) messages.push(typeof x === 'string' ? x : JSON.stringify(x));
    else messages.push(data.json);
  } else if (data.bytes) messages.push(Buffer.from(data.bytes as Uint8Array));
  else if (typeof data.int === 'number' || typeof data.double === 'number')
    messages.push(String(data.int ?? data.double));
  else if (data.collectionString)
    messages.push(...((data.collectionString as { string: string[] }).string ?? []));
  for (const m of messages) await client.sendMessage(encodeMessage(m, settings.messageEncoding));
  if (messages.length) clients.notify(client.url);
}
