/**
 * Timer functions are singletons across every host of one app on one storage account, as on Azure:
 * a host runs a timer's schedule only while it holds that function's listener lease, the blob
 * `azure-webjobs-hosts/locks/<hostId>/Host.Functions.<name>.Listener` (WebJobs SDK SingletonListener
 * and BlobLeaseDistributedLockManager). The holder renews the lease at half its period; a host that
 * did not get it tries again every recovery interval and starts the schedule when it does (after the
 * holder stopped, released it, or died and let it expire). A graceful stop lets the running occurrence
 * finish, then releases the lease at once.
 *
 * Lease time is wall-clock time — Azure Storage and Azurite expire leases on their own clocks — so
 * renewals and retries use Node timers even when the host runs on a manual clock; what the schedule
 * does once this host holds the lease (past-due check, next occurrence) stays on the process clock.
 */
import { randomUUID } from 'node:crypto';
import type { BlobLeaseClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { parseDuration } from './queue-settings';
import type { HostLogger } from './types';

export class ListenerLockError extends Error {
  override name = 'ListenerLockError';
}

/** Azure Storage accepts lease periods from 15 to 60 seconds. */
const MIN_LEASE_MS = 15_000;
const MAX_LEASE_MS = 60_000;
/** After a renewal fails for a passing reason (a timeout, a 5xx), try again this soon. */
const RENEW_RETRY_MS = 1_000;

export interface ListenerLockSettings {
  /** How long a listener lease lasts unless renewed (renewed at half of it). */
  periodMs: number;
  /** How often a host without the lease tries to get it. */
  recoveryPollingMs: number;
}

/**
 * host.json `singleton.listenerLockPeriod` (15–60 s) and `singleton.listenerLockRecoveryPollingInterval`
 * (at least 1 s). The local defaults, 15 s and 5 s, are shorter than Azure's (60 s and 60 s) so another
 * host takes over within about 20 s of the holder dying instead of two minutes.
 */
export function listenerLockSettings(hostJson: Record<string, any>): ListenerLockSettings {
  const s = (hostJson?.singleton ?? {}) as Record<string, unknown>;
  const periodMs = parseDuration(s.listenerLockPeriod, 'singleton.listenerLockPeriod') ?? 15_000;
  if (periodMs < MIN_LEASE_MS || periodMs > MAX_LEASE_MS)
    throw new ListenerLockError(
      `host.json singleton.listenerLockPeriod is ${JSON.stringify(s.listenerLockPeriod)}; blob leases last ` +
        '15 to 60 seconds, so use a TimeSpan from "00:00:15" to "00:01:00".',
    );
  const recoveryPollingMs =
    parseDuration(s.listenerLockRecoveryPollingInterval, 'singleton.listenerLockRecoveryPollingInterval') ??
    5_000;
  if (recoveryPollingMs < 1000)
    throw new ListenerLockError(
      `host.json singleton.listenerLockRecoveryPollingInterval is ${JSON.stringify(s.listenerLockRecoveryPollingInterval)}; ` +
        'use at least "00:00:01".',
    );
  return { periodMs, recoveryPollingMs };
}

/** The blob that holds a timer function's listener lease, as the Functions runtime names it. */
export function listenerLockBlobName(hostId: string, functionName: string): string {
  return `locks/${hostId}/Host.Functions.${functionName}.Listener`;
}

/** What a listener lock guards: started when this host gets the lease, stopped when it loses it. */
export interface Listener {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type ListenerLockState = 'held' | 'waiting' | 'unlocked' | 'stopped';

export interface SingletonListenerOptions {
  functionName: string;
  /** Container `azure-webjobs-hosts`; none when no storage is configured (then the schedule runs unlocked). */
  container: ContainerClient | undefined;
  hostId: string;
  settings: ListenerLockSettings;
  /** A fresh listener per lease held: its start is the timer's start on this host (runOnStartup, past due). */
  createListener(): Listener;
  log: HostLogger;
}

const statusOf = (e: unknown): number | undefined => (e as { statusCode?: number }).statusCode;

/** One timer function's listener, started only while this host holds its listener lease. */
export class SingletonListener {
  private state_: ListenerLockState = 'waiting';
  private readonly blob: BlockBlobClient | undefined;
  private readonly lease: BlobLeaseClient | undefined;
  private inner: Listener | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  /** Wall-clock start of the last request that got or renewed the lease. */
  private leasedAt = 0;
  private stopping = false;
  /** True once this host had to wait for the lease: getting it later is worth a log line. */
  private waited = false;
  private warned: string | undefined;
  /** Getting, losing and stopping happen one at a time. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: SingletonListenerOptions) {
    if (o.container) {
      this.blob = o.container.getBlockBlobClient(listenerLockBlobName(o.hostId, o.functionName));
      this.lease = this.blob.getBlobLeaseClient(randomUUID());
    }
  }

  get functionName(): string {
    return this.o.functionName;
  }

  /** `held`: this host runs the schedule; `waiting`: another host does; `unlocked`: no storage, no lease. */
  get state(): ListenerLockState {
    return this.state_;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  /** One attempt to get the lease (as the Functions runtime makes at start); retries in the background. */
  async start(): Promise<void> {
    if (!this.lease) {
      this.state_ = 'unlocked';
      this.inner = this.o.createListener();
      await this.inner.start();
      return;
    }
    await this.serial(async () => {
      if (await this.tryAcquire()) return this.begin();
      this.waited = true;
      if (!this.warned)
        this.o.log.info(
          `Timer '${this.o.functionName}' is run by another host of this app (host ID '${this.o.hostId}'), ` +
            `which holds its listener lease; this host takes over when that one stops, or ` +
            `${this.o.settings.periodMs / 1000} s after it died.`,
        );
    });
    this.scheduleRecovery();
  }

  private async tryAcquire(): Promise<boolean> {
    const at = Date.now();
    try {
      try {
        await this.lease!.acquireLease(this.o.settings.periodMs / 1000);
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
        await this.createBlob();
        await this.lease!.acquireLease(this.o.settings.periodMs / 1000);
      }
    } catch (e) {
      if (statusOf(e) === 409) return false; // another host holds it
      const message = (e as Error).message.split('\n')[0]!;
      if (this.warned !== message)
        this.o.log.warn(
          `Timer '${this.o.functionName}': cannot take its listener lease (${message}); it does not run ` +
            `on this host until it can (trying every ${this.o.settings.recoveryPollingMs / 1000} s).`,
        );
      this.warned = message;
      return false;
    }
    this.leasedAt = at;
    return true;
  }

  private async createBlob(): Promise<void> {
    await this.o.container!.createIfNotExists();
    try {
      // Never overwrite: the blob may exist and be leased by another host by now.
      await this.blob!.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (e) {
      if (statusOf(e) !== 409 && statusOf(e) !== 412) throw e;
    }
  }

  private async begin(): Promise<void> {
    if (this.waited)
      this.o.log.info(`Timer '${this.o.functionName}': this host holds its listener lease now and runs it.`);
    this.warned = undefined;
    this.state_ = 'held';
    this.scheduleRenewal(this.o.settings.periodMs / 2);
    this.inner = this.o.createListener();
    await this.inner.start();
  }

  private scheduleRenewal(ms: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), ms);
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.state_ !== 'held') return;
    const at = Date.now();
    // stop() waits for this request (not for what a failure leads to, which waits for stop()).
    const request = this.lease!.renewLease();
    this.renewing = request.then(
      () => {},
      () => {},
    );
    try {
      await request;
      this.leasedAt = at;
      if (this.state_ === 'held') this.scheduleRenewal(this.o.settings.periodMs / 2);
      return;
    } catch (e) {
      if (this.state_ !== 'held') return;
      const status = statusOf(e);
      // 409/412/404: another host has the lease or the blob went away. Otherwise the lease may still be
      // ours: keep trying until the period is nearly over, when another host may take it any moment.
      const lost =
        status === 409 ||
        status === 412 ||
        status === 404 ||
        Date.now() - this.leasedAt >= this.o.settings.periodMs - 2 * RENEW_RETRY_MS;
      if (!lost) return this.scheduleRenewal(RENEW_RETRY_MS);
      this.o.log.warn(
        `Timer '${this.o.functionName}': lost its listener lease (${(e as Error).message.split('\n')[0]}); ` +
          'it stops here and another host of this app may run it. This host tries to get it back.',
      );
      this.waited = true;
    }
    await this.serial(async () => {
      if (this.state_ !== 'held') return;
      this.state_ = 'waiting';
      await this.inner?.stop();
      this.inner = undefined;
    });
    this.scheduleRecovery();
  }

  private scheduleRecovery(): void {
    if (this.stopping || this.state_ === 'held') return;
    clearTimeout(this.recoveryTimer);
    this.recoveryTimer = setTimeout(() => void this.recover(), this.o.settings.recoveryPollingMs);
    this.recoveryTimer.unref();
  }

  private async recover(): Promise<void> {
    await this.serial(async () => {
      if (this.stopping || this.state_ === 'held') return;
      if (!(await this.tryAcquire())) return;
      // Got it while stopping: stop() releases it without starting the schedule.
      if (this.stopping) this.state_ = 'held';
      else await this.begin();
    }).catch((e) =>
      this.o.log.error(`Timer '${this.o.functionName}' failed to start: ${(e as Error).message}`),
    );
    this.scheduleRecovery();
  }

  /** Stops the schedule (letting a running occurrence finish, lease still renewed), then releases the lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.recoveryTimer);
    await this.serial(async () => {
      const held = this.state_ === 'held';
      await this.inner?.stop();
      this.inner = undefined;
      this.state_ = 'stopped';
      clearTimeout(this.renewTimer);
      await this.renewing;
      if (held)
        await this.lease!.releaseLease().catch((e) => {
          // 409: the lease already passed to another host; nothing of ours to release.
          if (statusOf(e) !== 409)
            this.o.log.warn(
              `Timer '${this.o.functionName}': cannot release its listener lease (${(e as Error).message.split('\n')[0]}); ` +
                `another host takes over when it expires (${this.o.settings.periodMs / 1000} s).`,
            );
        });
    });
  }
}
