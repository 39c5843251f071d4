/**
 * A compute agent: takes jobs from `sluice-jobs-<pool>`, runs each in its own working directory and
 * process group, and reports the result on the job row (authoritative) and to the orchestration (a
 * durable external event, for latency). It needs only the storage account, so it runs anywhere:
 * in-process in the local host (pool `local`) or as `sluice agent --pool NAME` on another machine.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { QueueClient } from '@azure/storage-queue';
import { getClock, type ClockTimer } from '../host/clock';
import { removeReport, reportSoon } from '../environments/agents';
import { defaultCacheDir } from '../environments/cache';
import { listCachedEnvironments, shortKey, type CachedEnvironment } from '../environments/listing';
import { Ledger, machineCapacity, needOf, type Capacity } from './admission';
import { decodeMessage, type JobRow } from './job-row';
import { jobQueue } from './jobs';
import { claimJob } from './jobs-runner';
import { removePresence, writePresence } from './presence';
import { AgentKeyRefused, type CredentialSource } from './scoped-clients';
import { signalGroup } from './job-process';
import { runJob, type ActiveJob, type RunnerContext } from './runner';
import { noteServiceEndpoint } from './service-endpoint';
import { onCancel, onReserve, onWake } from './wake';

export interface AgentOptions {
  /** The pool whose queue this agent serves. */
  pool: string;
  /** @default `<hostname>-<pid>-<random>` */
  agentId?: string;
  /** Where job working directories are made. @default `<os tmpdir>/sluice-agents/<pool>` */
  workDir?: string;
  /** Sluice endpoint for completion events (`SLUICE_ENDPOINT`); without one, only the job row reports. */
  endpoint?: string;
  /** Function key for the endpoint (`x-functions-key`). Never logged. */
  key?: string;
  /** A cap on the jobs run at once, besides resources. @default setting `SLUICE_AGENT_CONCURRENCY`, else none */
  concurrency?: number;
  /**
   * What this machine offers; jobs are admitted by their resources against what is free.
   * @default this machine's CPUs and memory, and `gpus` GPUs
   */
  capacity?: Capacity;
  /** GPUs this machine offers (when `capacity` is not given). @default 0 */
  gpus?: number;
  /** How often the agent's presence row (live view) is written. @default 5000 */
  presenceMs?: number;
  /**
   * Step environments prepared on this machine, for the live view: read with each presence write.
   * @default the complete entries of the environment cache the job runner builds into
   * (`SLUICE_ENV_CACHE_DIR`), most recently used first
   */
  cachedEnvironments?: () => Promise<CachedEnvironment[]>;
  /**
   * Scoped credentials (a remote agent with an agent key): each job's row and log credentials are
   * fetched before the agent reads the row. Without it, the process's own clients are used.
   */
  credentials?: CredentialSource;
  /** Heartbeat interval. @default 2000 */
  heartbeatMs?: number;
  /** How often a running job's row is read for a cancel request (real time). @default 500 */
  cancelPollMs?: number;
  /** Idle queue polling starts at this interval and backs off to pollMaxMs. @default 200 */
  pollMinMs?: number;
  /** @default 2000 */
  pollMaxMs?: number;
  /** Grace between SIGTERM and SIGKILL of a job's process group. @default 2000 */
  killGraceMs?: number;
  /** Diagnostic lines. @default console.log with an `[agent <id>]` prefix */
  log?: (line: string) => void;
}

export interface RunningAgent {
  agentId: string;
  pool: string;
  /** Settles once the queue is reachable (the loop retries on its own when it is not). */
  ready: Promise<void>;
  /** Jobs running now. */
  running(): number;
  /** What the agent offers and what is free now. */
  resources(): { capacity: Capacity; free: Capacity };
  /** Stops taking jobs; running jobs are killed and reported as `lost` so they are retried elsewhere. */
  stop(): Promise<void>;
}

/** Environment variables never passed to user commands: the agent's own credentials. */
export function startAgent(opts: AgentOptions): RunningAgent {
  const pool = opts.pool;
  const agentId = opts.agentId ?? `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
  const workDir = opts.workDir ?? join(os.tmpdir(), 'sluice-agents', pool);
  const concurrency = Math.max(1, opts.concurrency ?? defaultConcurrency());
  const ledger = new Ledger(opts.capacity ?? machineCapacity(opts.gpus ?? 0), concurrency);
  const jobKey = (r: { runId: string; jobId: string }): string => `${r.runId}/${r.jobId}`;
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  const pollMin = opts.pollMinMs ?? 200;
  const pollMax = opts.pollMaxMs ?? 2000;
  const log = opts.log ?? ((line: string) => console.log(`[agent ${agentId}] ${line}`));
  const clock = getClock();
  const active = new Map<string, ActiveJob>();
  if (opts.endpoint) noteServiceEndpoint(opts.endpoint, opts.key);
  const runner: RunnerContext = {
    agentId,
    workDir,
    log,
    heartbeatMs,
    ...(opts.cancelPollMs !== undefined ? { cancelPollMs: opts.cancelPollMs } : {}),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    ...((opts.endpoint ?? process.env.SLUICE_ENDPOINT)
      ? { endpoint: (opts.endpoint ?? process.env.SLUICE_ENDPOINT)! }
      : {}),
    ...((opts.key ?? process.env.SLUICE_KEY) ? { key: (opts.key ?? process.env.SLUICE_KEY)! } : {}),
  };
  let stopped = false;
  let woken = false;
  let wakeSleeper: (() => void) | undefined;

  const wake = (): void => {
    woken = true;
    wakeSleeper?.();
  };
  /** Set while the loop sleeps because every slot is taken: a finishing job then wakes it. */
  let waitingForSlot = false;
  /** Set once orphans of an earlier agent process are reaped: only then are job directories made. */
  let accepting = false;
  const offWake = onWake(pool, wake);
  // Jobs enqueued in this process come straight to a free slot, created already claimed by this agent
  // (see enqueueJob): no queue message to receive, no row to read, no claim round trip, no loop wake.
  const offReserve = onReserve(pool, (spec) => {
    if (stopped || !accepting || !ledger.take(jobKey(spec), needOf(spec.resources))) return undefined;
    return {
      agentId,
      release: () => ledger.give(jobKey(spec)),
      start: (row) => {
        start(row);
        // Stopped meanwhile: the job is reported lost (and retried elsewhere), as running jobs are.
        if (stopped) active.get(`${row.runId}/${row.jobId}`)?.kill('lost');
      },
    };
  });

  function start(row: JobRow): void {
    const key = `${row.runId}/${row.jobId}`;
    const job = runJob(row.spec, row.etag, row.startedAt!, runner);
    active.set(key, job);
    void job.done.finally(() => {
      active.delete(key);
      ledger.give(key);
      opts.credentials?.dropJob(row.runId, row.jobId);
      if (waitingForSlot) wake(); // a slot is free: look at the queue again now
    });
  }
  const offCancel = onCancel((runId, jobId) => active.get(`${runId}/${jobId}`)?.cancel());

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (woken || stopped) {
        woken = false;
        return resolve();
      }
      const timer: { t?: ClockTimer } = {};
      // Real-time backstop too: a manual clock that nobody advances must not park the agent forever.
      const real = setTimeout(() => finish(), Math.max(ms, 1000) * 5);
      const finish = (): void => {
        timer.t?.cancel();
        clearTimeout(real);
        wakeSleeper = undefined;
        woken = false;
        resolve();
      };
      wakeSleeper = finish;
      timer.t = clock.setTimeout(finish, ms);
    });

  let queue: QueueClient | undefined;
  let stopReporting: (() => void) | undefined;
  const ready = (async () => {
    // What this agent can run (platform, Python and Node versions): dispatch checks environments by it.
    stopReporting = reportSoon(pool, agentId, log);
    await reapOrphans(workDir, log);
    accepting = true;
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        queue = await jobQueue(pool);
        return;
      } catch (e) {
        if (stopped) return;
        log(`cannot reach queue ${pool}: ${(e as Error).message}; retrying in ${delay} ms`);
        await sleep(delay);
      }
    }
  })();

  const loop = (async () => {
    await ready;
    let idle = pollMin;
    while (!stopped && queue) {
      // Cached per client bundle: after a credentials renewal this is a client with the fresh token.
      const fresh = await jobQueue(pool).catch(() => undefined);
      if (fresh) queue = fresh;
      const free = Math.min(32, concurrency - ledger.count);
      if (free <= 0 || !ledger.hasRoom()) {
        waitingForSlot = true;
        await sleep(pollMax); // a finishing job wakes the loop
        waitingForSlot = false;
        continue;
      }
      let messages: Awaited<ReturnType<QueueClient['receiveMessages']>>['receivedMessageItems'] = [];
      try {
        messages = (await queue.receiveMessages({ numberOfMessages: free, visibilityTimeout: 60 }))
          .receivedMessageItems;
      } catch (e) {
        if (stopped) break;
        log(`receiving from ${pool} failed: ${(e as Error).message}`);
        idle = Math.min(idle * 2, pollMax);
        await sleep(idle);
        continue;
      }
      if (messages.length === 0) {
        await sleep(idle);
        idle = Math.min(idle * 2, pollMax);
        continue;
      }
      idle = pollMin;
      for (const m of messages) {
        if (stopped) break;
        const msg = decodeMessage(m.messageText);
        const drop = (): Promise<unknown> =>
          queue!.deleteMessage(m.messageId, m.popReceipt).catch(() => undefined);
        if (!msg) {
          log(`dropping a message that is not a job (${m.messageText.slice(0, 80)})`);
          await drop();
          continue;
        }
        const key = jobKey(msg);
        if (opts.credentials) {
          const got = await opts.credentials.forJob(msg.runId, msg.jobId).then(
            () => 'ok' as const,
            (e: unknown) => {
              if (e instanceof AgentKeyRefused) throw e;
              const status = (e as { status?: number }).status;
              // Not a job of this pool, or already ended: nothing to run.
              if (status === 404 || status === 409) return 'drop' as const;
              log(`credentials for ${key}: ${(e as Error).message}`);
              return 'retry' as const;
            },
          );
          if (got === 'drop') {
            await drop();
            continue;
          }
          if (got === 'retry') continue;
        }
        const claim = await claimJob(msg.runId, msg.jobId, agentId, undefined, (row) =>
          ledger.take(key, needOf(row.spec.resources)),
        ).catch((e: unknown) => {
          log(`claiming ${msg.runId}/${msg.jobId} failed: ${(e as Error).message}`);
          return undefined;
        });
        if (!claim?.claimed) {
          ledger.give(key);
          opts.credentials?.dropJob(msg.runId, msg.jobId);
        }
        if (!claim) continue; // the message becomes visible again and is retried
        if (!claim.claimed && claim.reason === 'no-room') {
          // Not enough free here now: back on the queue in a second, for this agent or another.
          if (!ledger.canEverFit(needOf(claim.row?.spec.resources)))
            log(`job ${key} asks for more than this agent offers (${JSON.stringify(ledger.capacity)})`);
          void queue.updateMessage(m.messageId, m.popReceipt, undefined, 1).catch(() => undefined);
          continue;
        }
        void drop(); // off the critical path: the claim already makes the job ours
        if (!claim.claimed) continue;
        start(claim.row);
      }
    }
  })().catch((e: unknown) => {
    if (e instanceof AgentKeyRefused) {
      log(`${e.message}; this agent takes no more jobs`);
      stopped = true;
      opts.credentials?.refused(e);
    } else log(`agent loop stopped: ${(e as Error).stack ?? e}`);
  });

  const listEnvironments = opts.cachedEnvironments ?? (() => listCachedEnvironments(defaultCacheDir()));
  /** The presence write in flight: a stopping agent waits for it, so no row lands after its removal. */
  let writing: Promise<void> | undefined;
  const presence = (): void => {
    if (writing) return; // a slow store: skip a beat rather than pile up writes
    writing = (async () => {
      const environments = await listEnvironments().catch(() => [] as CachedEnvironment[]);
      if (stopped) return;
      await writePresence({
        pool,
        agentId,
        version: VERSION,
        heartbeatAt: new Date(clock.now()).toISOString(),
        running: [...active.keys()],
        capacity: ledger.capacity,
        free: ledger.free(),
        cachedEnvironments: environments.map((e) => shortKey(e.key)),
        environments,
      });
    })()
      .catch(() => undefined)
      .finally(() => (writing = undefined));
  };
  void ready.then(() => !stopped && presence());
  const presenceTimer = setInterval(presence, opts.presenceMs ?? 5000);
  presenceTimer.unref();

  return {
    agentId,
    pool,
    ready,
    running: () => active.size,
    resources: () => ({ capacity: ledger.capacity, free: ledger.free() }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(presenceTimer);
      if (writing) await Promise.race([writing, new Promise((r) => setTimeout(r, 5000).unref())]);
      await removePresence(pool, agentId).catch(() => undefined);
      offWake();
      offReserve();
      offCancel();
      stopReporting?.();
      void removeReport(pool, agentId);
      wakeSleeper?.();
      for (const j of active.values()) j.kill('lost');
      await Promise.race([
        Promise.all([...active.values()].map((j) => j.done)),
        new Promise((r) => setTimeout(r, 10_000).unref()),
      ]);
      await Promise.race([loop, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}

/**
 * Setting `SLUICE_AGENT_CONCURRENCY` (a cap on the jobs an agent runs at once), else `fallback`: no cap,
 * since agents admit jobs by their resources against what the machine has free. @default Infinity
 */
export function defaultConcurrency(env: NodeJS.ProcessEnv = process.env, fallback = Infinity): number {
  const n = Number(env.SLUICE_AGENT_CONCURRENCY);
  return Number.isInteger(n) && n >= 1 ? n : fallback;
}

/** The local host's agent (pool `local`): no job-count cap, admission by free resources. @default Infinity */
export const LOCAL_AGENT_CONCURRENCY = Infinity;

const VERSION = ((): string => {
  try {
    return (
      JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
})();

/**
 * Kills process groups left by an earlier agent process that died (SIGKILL, crash) with jobs running,
 * so a restarted local host does not run a step twice at once; and removes their directories.
 */
async function reapOrphans(workDir: string, log: (line: string) => void): Promise<void> {
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(workDir, name);
    try {
      const info = JSON.parse(await readFile(join(dir, '.sluice-agent.json'), 'utf8')) as {
        agentPid?: number;
        pgid?: number;
      };
      if (info.agentPid && info.agentPid !== process.pid && alive(info.agentPid)) continue;
      if (info.pgid) {
        signalGroup(info.pgid, 'SIGKILL');
        log(`killed process group ${info.pgid} left by dead agent process ${info.agentPid}`);
      }
      await rm(dir, { recursive: true, force: true });
    } catch {
      /* not a job directory */
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
