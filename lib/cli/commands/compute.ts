import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { TargetLiveView } from '../../compute/live-view';
import { loadEnvFile, pickJob, runOneJob, type JobsFile } from '../../compute/run-one';
import { ApiClient, call } from '../api-client';
import { printTable } from '../table';

interface TargetOut {
  name: string;
  backend: string;
  settings: Record<string, unknown>;
  environment?: Record<string, string>;
  resources?: Record<string, number>;
  defaults?: Record<string, number>;
}

type LiveOut = TargetLiveView;

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function resourcesText(r: Record<string, number> | undefined): string {
  if (!r) return '-';
  return Object.entries(r)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/**
 * `sluice compute list|show|add|put|delete`: compute targets over the REST API (no restart needed).
 * `sluice run-job`: the job runner inside a Slurm allocation (written into the batch script by
 * lib/compute/slurm; not for people).
 */
export function register(program: Command): void {
  const c = program.command('compute').description('compute targets: agent pools and Slurm clusters');

  c.command('list')
    .description('compute targets')
    .action(async (_o: unknown, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const { items } = await call(() => api.json<{ items: TargetOut[] }>('/compute'));
      const rows = [['NAME', 'BACKEND', 'SETTINGS', 'LIMITS', 'DEFAULTS']];
      for (const t of items)
        rows.push([
          t.name,
          t.backend,
          JSON.stringify(t.settings),
          resourcesText(t.resources),
          resourcesText(t.defaults),
        ]);
      printTable(rows);
    });

  c.command('add')
    .alias('put')
    .description('create or replace a target, from flags or a YAML/JSON file (-f)')
    .argument('<name>', 'target name')
    .option('-f, --file <path>', 'YAML or JSON body: {backend, settings, environment, resources, defaults}')
    .option('--slurm', 'a Slurm target (the service submits with sbatch)')
    .option('--pool <name>', 'an agent target: the pool its agents serve')
    .option('--partition <p>', 'Slurm partition')
    .option('--account <a>', 'Slurm account')
    .option('--qos <q>', 'Slurm QOS')
    .option('--sbatch-arg <arg>', 'extra sbatch option, e.g. --constraint=a100 (repeatable)', collect, [])
    .option('--slurm-conf <path>', "the cluster's slurm.conf (default: the service's SLURM_CONF)")
    .option('--work-dir <dir>', 'a directory the Slurm nodes share, for job files')
    .option('--max-cpu <n>', 'the most CPUs one step may ask for')
    .option('--max-memory-gb <n>', 'the most memory (GB) one step may ask for')
    .option('--max-gpu <n>', 'the most GPUs one step may ask for')
    .option('--env <k=v>', 'what the target declares about its environment (repeatable)', collect, [])
    .action(async (name: string, o: AddOptions, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const body = o.file ? parseYaml(await readFile(o.file, 'utf8')) : bodyFromFlags(o);
      const out = await call(() =>
        api.json<TargetOut>(`/compute/${encodeURIComponent(name)}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
      console.log(`compute target ${out.name} (${out.backend}) saved`);
    });

  c.command('show')
    .description('a target and its live view: agents, queue depth, Slurm jobs')
    .argument('<name>', 'target name')
    .option('--json', 'print the JSON')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const path = `/compute/${encodeURIComponent(name)}`;
      const [t, live] = await call(() =>
        Promise.all([api.json<TargetOut>(path), api.json<LiveOut>(`${path}/live`)]),
      );
      if (o.json) return console.log(JSON.stringify({ target: t, live }, null, 2));
      console.log(`${t.name}: ${t.backend} ${JSON.stringify(t.settings)}`);
      console.log(`  limits ${resourcesText(t.resources)}; defaults ${resourcesText(t.defaults)}`);
      console.log(`  queue depth ${live.queueDepth}`);
      for (const p of live.problems ?? []) console.log(`  problem: ${p}`);
      if (live.agents) {
        const rows = [['AGENT', 'VERSION', 'HEARTBEAT', 'RUNNING', 'FREE', 'ENVIRONMENTS']];
        for (const a of live.agents)
          rows.push([
            a.agentId,
            a.version,
            `${(a.heartbeatAgeMs / 1000).toFixed(1)} s ago`,
            String(a.running.length),
            resourcesText(a.free),
            a.cachedEnvironments.join(' ') || '-',
          ]);
        printTable(rows);
      }
      if (live.slurmJobs) {
        const rows = [['SLURM JOB', 'STATE', 'REASON', 'NAME', 'ELAPSED', 'NODE']];
        for (const j of live.slurmJobs) rows.push([j.id, j.state, j.reason, j.name, j.elapsed, j.node]);
        printTable(rows);
      }
    });

  c.command('delete')
    .description('delete a target (steps naming it then fail at publish and run start)')
    .argument('<name>', 'target name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      await call(() => api.fetch(`/compute/${encodeURIComponent(name)}`, { method: 'DELETE' }));
      console.log(`compute target ${name} deleted`);
    });

  const keys = c
    .command('keys')
    .description('agent keys: what a remote agent needs (no storage account key)');
  keys
    .command('create')
    .description('create a key for one pool; printed once (`sluice agent --endpoint URL --key KEY --pool P`)')
    .requiredOption('--pool <name>', 'the pool the key serves')
    .option('--description <text>', 'what the key is for')
    .action(async (o: { pool: string; description?: string }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const k = await call(() =>
        api.post<{ id: string; key: string; pool: string }>('/agent-keys', {
          pool: o.pool,
          ...(o.description ? { description: o.description } : {}),
        }),
      );
      console.log(k.key);
      console.error(
        `agent key ${k.id} for pool ${k.pool}; it is shown only now. Revoke: sluice compute keys revoke ${k.id}`,
      );
    });
  keys
    .command('list')
    .description('agent keys (ids and pools; the keys themselves are never shown again)')
    .option('--pool <name>', 'only this pool')
    .action(async (o: { pool?: string }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const q = o.pool ? `?pool=${encodeURIComponent(o.pool)}` : '';
      const { items } = await call(() =>
        api.json<{ items: Array<{ id: string; pool: string; createdAt: string; description?: string }> }>(
          `/agent-keys${q}`,
        ),
      );
      const rows = [['ID', 'POOL', 'CREATED', 'DESCRIPTION']];
      for (const k of items) rows.push([k.id, k.pool, k.createdAt, k.description ?? '']);
      printTable(rows);
    });
  keys
    .command('revoke')
    .description('revoke a key: its agents are refused at their next renewal or job, and stop')
    .argument('<id>', 'key id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      await call(() => api.fetch(`/agent-keys/${encodeURIComponent(id)}`, { method: 'DELETE' }));
      console.log(`agent key ${id} revoked`);
    });

  program
    .command('run-job', { hidden: true })
    .description('run one Sluice job by its row (used inside a Slurm allocation)')
    .requiredOption(
      '--jobs-file <file>',
      'JSON {workDir, jobs: [{runId, jobId}]}; an array task runs its own',
    )
    .option('--env-file <file>', "JSON of the runner's settings (storage, endpoint)")
    .action(async (o: { jobsFile: string; envFile?: string }) => {
      if (o.envFile) loadEnvFile(o.envFile);
      const file = JSON.parse(readFileSync(o.jobsFile, 'utf8')) as JobsFile;
      await runOneJob({ ...pickJob(file, process.env), workDir: file.workDir });
      // Timers of storage clients must not keep the allocation: the result is written.
      process.exit(0);
    });
}

interface AddOptions {
  file?: string;
  slurm?: boolean;
  pool?: string;
  partition?: string;
  account?: string;
  qos?: string;
  sbatchArg: string[];
  slurmConf?: string;
  workDir?: string;
  maxCpu?: string;
  maxMemoryGb?: string;
  maxGpu?: string;
  env: string[];
}

/** The PUT body from flags; numbers are sent as given, so the service reports a bad one with its pointer. */
function bodyFromFlags(o: AddOptions): Record<string, unknown> {
  if (!o.slurm && !o.pool)
    throw new Error('say which backend: --slurm, or --pool NAME for an agent pool (or -f FILE).');
  const num = (v: string | undefined): number | string | undefined =>
    v === undefined ? undefined : Number.isFinite(Number(v)) ? Number(v) : v;
  const resources = Object.fromEntries(
    Object.entries({ cpu: num(o.maxCpu), memoryGb: num(o.maxMemoryGb), gpu: num(o.maxGpu) }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  const environment = Object.fromEntries(
    o.env.map((kv) => {
      const i = kv.indexOf('=');
      if (i < 1) throw new Error(`--env "${kv}" is not KEY=VALUE.`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
  const settings = o.slurm
    ? Object.fromEntries(
        Object.entries({
          partition: o.partition,
          account: o.account,
          qos: o.qos,
          slurmConf: o.slurmConf,
          workDir: o.workDir,
          ...(o.sbatchArg.length ? { extraArgs: o.sbatchArg } : {}),
        }).filter(([, v]) => v !== undefined),
      )
    : { pool: o.pool };
  return {
    backend: o.slurm ? 'slurm' : 'agent',
    settings,
    environment,
    ...(Object.keys(resources).length ? { resources } : {}),
  };
}
