/**
 * The queue trigger listener, with the Functions host's semantics (host.json `extensions.queues`,
 * queue-settings.ts): polling with back-off up to `maxPollingInterval`, `batchSize` +
 * `newBatchThreshold` concurrency, `visibilityTimeout` before a failed message is retried, base64 or
 * plain encoding, and `<queue>-poison` after `maxDequeueCount` attempts. A received message stays
 * invisible while its function runs; it is deleted only after the function succeeded.
 */
import type { QueueClient, DequeuedMessageItem } from '@azure/storage-queue';
import { getClock, type ClockTimer } from './clock';
import type { QueueClients } from './queue-clients';
import { decodeMessage, tryJsonParse } from './queue-messages';
import type { QueueSettings } from './queue-settings';
import type { HostLogger } from './types';

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
