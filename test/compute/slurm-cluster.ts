/**
 * A throwaway single-node Slurm for tests (facts in /work/shared/reference/slurm-local.md): its own
 * munged, slurmctld and slurmd, each under setsid and stopped by pid, with a generated slurm.conf in a
 * short /tmp folder (socket paths are limited to 108 bytes). Needs test/setup/slurm.sh.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface SlurmTestCluster {
  conf: string;
  dir: string;
  node: string;
  env: Record<string, string>;
  /** Runs a Slurm command against this cluster; returns stdout. */
  cmd(command: string, args: string[]): string;
  stop(): Promise<void>;
}

export function slurmInstalled(): boolean {
  try {
    execFileSync(
      'sh',
      ['-c', 'command -v slurmctld && command -v slurmd && command -v munged && command -v sbatch'],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    return false;
  }
}

/** A free-looking port pair away from the emulators' ranges. */
function ports(): number {
  return 17000 + 2 * Math.floor(Math.random() * 1500);
}

export async function startSlurm(
  opts: { cpus?: number; minJobAge?: number } = {},
): Promise<SlurmTestCluster> {
  const dir = mkdtempSync('/tmp/slm-');
  const node = os.hostname().split('.')[0]!;
  const port = ports();
  for (const d of ['state', 'spool', 'log']) mkdirSync(join(dir, d));
  const key = join(dir, 'munge.key');
  writeFileSync(key, randomBytes(1024));
  chmodSync(key, 0o400);
  const sock = join(dir, 'munge.sock');
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      `ClusterName=sl${port}`,
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${sock}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/filetxt',
      `JobCompLoc=${join(dir, 'log', 'jobcomp.txt')}`,
      'SchedulerParameters=batch_sched_delay=0,sched_min_interval=0',
      'SlurmdParameters=config_overrides',
      'MailProg=/bin/true',
      `MinJobAge=${opts.minJobAge ?? 300}`,
      'KillWait=5',
      'ReturnToService=2',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${opts.cpus ?? 16} RealMemory=4000 State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { SLURM_CONF: conf };
  const procs: ChildProcess[] = [];
  const daemon = (cmd: string, args: string[]): ChildProcess => {
    const p = spawn(cmd, args, {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, ...env },
    });
    procs.push(p);
    return p;
  };
  daemon('munged', [
    '--foreground',
    '--force',
    `--socket=${sock}`,
    `--key-file=${key}`,
    `--pid-file=${join(dir, 'munged.pid')}`,
    `--seed-file=${join(dir, 'munge.seed')}`,
    `--log-file=${join(dir, 'log', 'munged.log')}`,
  ]);
  await waitUntil(() => exists(sock), 10_000, 'munged socket');
  daemon('slurmctld', ['-D', '-i', '-f', conf]);
  daemon('slurmd', ['-D', '-N', node, '-f', conf]);
  const cmd = (command: string, args: string[]): string =>
    execFileSync(command, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  await waitUntil(
    () => {
      try {
        return cmd('sinfo', ['-h', '-n', node, '-o', '%T']).trim() === 'idle';
      } catch {
        return false;
      }
    },
    30_000,
    'the Slurm node to be idle',
  );
  // The controller's first scheduling pass comes about 3 s after start; a job before it waits for it.
  await new Promise((r) => setTimeout(r, 3000));
  return {
    conf,
    dir,
    node,
    env,
    cmd,
    async stop() {
      for (const p of procs.reverse()) {
        if (p.pid && p.exitCode === null) {
          try {
            process.kill(p.pid, 'SIGTERM');
          } catch {
            /* gone */
          }
        }
      }
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((r) => {
              if (p.exitCode !== null || p.signalCode !== null) return r();
              const t = setTimeout(() => {
                try {
                  process.kill(p.pid!, 'SIGKILL');
                } catch {
                  /* gone */
                }
                r();
              }, 5000);
              p.once('exit', () => {
                clearTimeout(t);
                r();
              });
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function exists(p: string): boolean {
  try {
    execFileSync('test', ['-S', p]);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(fn: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
