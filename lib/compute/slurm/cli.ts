/**
 * Slurm's commands, run with argv arrays (never a shell) and the cluster's `SLURM_CONF`. squeue is read
 * once for every job of a cluster at most every 250 ms, so supervising 200 mini-batches costs one call,
 * not 200.
 */
import { execFile } from 'node:child_process';

export interface SlurmCluster {
  /** slurm.conf path; undefined: the process's own SLURM_CONF (or Slurm's default). */
  conf?: string;
}

export class SlurmCommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(
      `${command} failed${exitCode !== null ? ` (exit ${exitCode})` : ''}: ${stderr.trim() || 'no output'}`,
    );
  }
}

export function runSlurm(
  cluster: SlurmCluster,
  command: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<string> {
  const env = { ...process.env, ...(cluster.conf ? { SLURM_CONF: cluster.conf } : {}) };
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const code =
            typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          reject(
            new SlurmCommandError(
              command,
              missing
                ? `${command} is not installed or not on PATH; this machine must be a Slurm submit host`
                : stderr || err.message,
              code,
            ),
          );
        } else resolve(stdout);
      },
    );
  });
}

export interface QueueEntry {
  id: string;
  state: string;
  reason: string;
  name: string;
  partition: string;
  elapsed: string;
  node: string;
}

const snapshots = new Map<string, { at: number; p: Promise<Map<string, QueueEntry>> }>();
const SNAPSHOT_MS = 250;

/** Every job the controller knows (`squeue -t all -r`), by id (`123`, array tasks `123_4`). */
export function queueSnapshot(cluster: SlurmCluster, fresh = false): Promise<Map<string, QueueEntry>> {
  const key = cluster.conf ?? '';
  const now = Date.now();
  const hit = snapshots.get(key);
  if (!fresh && hit && now - hit.at < SNAPSHOT_MS) return hit.p;
  const p = runSlurm(cluster, 'squeue', ['-h', '-r', '-t', 'all', '-o', '%i|%T|%r|%j|%P|%M|%N']).then(
    (out) => {
      const m = new Map<string, QueueEntry>();
      for (const line of out.split('\n')) {
        const [id, state, reason, name, partition, elapsed, node] = line.split('|');
        if (!id || !state) continue;
        m.set(id.trim(), {
          id: id.trim(),
          state,
          reason: reason ?? '',
          name: name ?? '',
          partition: partition ?? '',
          elapsed: elapsed ?? '',
          node: node ?? '',
        });
      }
      return m;
    },
  );
  snapshots.set(key, { at: now, p });
  p.catch(() => snapshots.delete(key));
  return p;
}

/** sacct's state of a job that left squeue, where accounting exists; undefined otherwise. */
export async function accountingState(cluster: SlurmCluster, id: string): Promise<string | undefined> {
  try {
    const out = await runSlurm(cluster, 'sacct', ['-n', '-P', '-X', '-j', id, '-o', 'State'], 10_000);
    const s = out.split('\n')[0]?.trim();
    return s || undefined;
  } catch {
    return undefined; // "accounting storage is disabled", or no sacct
  }
}
