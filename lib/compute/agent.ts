/**
 * A compute agent: takes jobs from `sluice-jobs-<pool>`, runs each in its own working directory and
 * process group, and reports the result on the job row (authoritative) and to the orchestration (a
 * durable external event, for latency). It needs only the storage account, so it runs anywhere:
 * in-process in the local host (pool `local`) or as `sluice agent --pool NAME` on another machine.
 */
import { randomUUID } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { QueueClient } from '@azure/storage-queue';
import { getClock, type ClockTimer } from '../host/clock';
import { claimJob, decodeMessage, jobQueue, type JobRow } from './jobs';
import { runJob, signalGroup, type ActiveJob, type RunnerContext } from './runner';
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
  /** Jobs run at once. @default setting `SLUICE_AGENT_CONCURRENCY`, else 4 */
  concurrency?: number;
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
  /** Stops taking jobs; running jobs are killed and reported as `lost` so they are retried elsewhere. */
  stop(): Promise<void>;
}

/** Environment variables never passed to user commands: the agent's own credentials. */
export function startAgent(opts: AgentOptions): RunningAgent {
  const pool = opts.pool;
  const agentId = opts.agentId ?? `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
  const workDir = opts.workDir ?? join(os.tmpdir(), 'sluice-agents', pool);
  const concurrency = Math.max(1, opts.concurrency ?? defaultConcurrency());
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
  let reserved = 0;
  /** Set while the loop sleeps because every slot is taken: a finishing job then wakes it. */
  let waitingForSlot = false;
  /** Set once orphans of an earlier agent process are reaped: only then are job directories made. */
  let accepting = false;
  const offWake = onWake(pool, wake);
  // Jobs enqueued in this process come straight to a free slot, created already claimed by this agent
  // (see enqueueJob): no queue message to receive, no row to read, no claim round trip, no loop wake.
  const offReserve = onReserve(pool, () => {
    if (stopped || !accepting || active.size + reserved >= concurrency) return undefined;
    reserved++;
    let held = true;
    const free = (): void => {
      if (held) reserved--;
      held = false;
    };
    return {
      agentId,
      release: free,
      start: (row) => {
        free();
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
  const ready = (async () => {
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
      const free = concurrency - active.size - reserved;
      if (free <= 0) {
        waitingForSlot = true;
        await sleep(pollMax); // a finishing job wakes the loop
        waitingForSlot = false;
        continue;
      }
      let messages: Awaited<ReturnType<QueueClient['receiveMessages']>>['receivedMessageItems'] = [];
      try {
        messages = (
          await queue.receiveMessages({ numberOfMessages: Math.min(32, free), visibilityTimeout: 60 })
        ).receivedMessageItems;
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
        const claim = await claimJob(msg.runId, msg.jobId, agentId).catch((e: unknown) => {
          log(`claiming ${msg.runId}/${msg.jobId} failed: ${(e as Error).message}`);
          return undefined;
        });
        if (!claim) continue; // the message becomes visible again and is retried
        void drop(); // off the critical path: the claim already makes the job ours
        if (!claim.claimed) continue;
        start(claim.row);
      }
    }
  })().catch((e: unknown) => log(`agent loop stopped: ${(e as Error).stack ?? e}`));

  return {
    agentId,
    pool,
    ready,
    running: () => active.size,
    async stop() {
      if (stopped) return;
      stopped = true;
      offWake();
      offReserve();
      offCancel();
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
 * Setting `SLUICE_AGENT_CONCURRENCY` (jobs an agent runs at once), else `fallback`: 4 for `sluice agent`
 * (a remote machine's size is unknown), 8 for the local host's agent (`sluice start`), whose jobs are
 * mostly short steps waiting on I/O. @default 4
 */
export function defaultConcurrency(env: NodeJS.ProcessEnv = process.env, fallback = 4): number {
  const n = Number(env.SLUICE_AGENT_CONCURRENCY);
  return Number.isInteger(n) && n >= 1 ? n : fallback;
}

/** The local host's agent (pool `local`): `SLUICE_AGENT_CONCURRENCY` when set. @default 8 */
export const LOCAL_AGENT_CONCURRENCY = 8;

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
