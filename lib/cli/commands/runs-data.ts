import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { encodeManifest, safeRelativePath, type Manifest } from '../../data/hash';
import type { Comparison } from '../../runs/compare';
import type { MetricSeries } from '../../runs/metrics-query';
import { ApiClient } from '../api-client';
import { formatBytes, formatTable as table } from '../table';

/**
 * `sluice runs outputs|metrics|compare`: a run's data from the terminal. Added to the `runs` command
 * that lib/cli/commands/runs.ts defines (main.ts registers this module after it).
 */

const enc = encodeURIComponent;
const out = (s: string): void => void process.stdout.write(s + '\n');

interface OutputRef {
  hash: string;
  type: 'file' | 'directory';
  size?: number;
}

/**
 * Streams an API file to `dest` through a sha256, and keeps it only when the hash is `expected`: the file
 * is written beside its destination and renamed into place after the check, so a failed or tampered
 * download never leaves a file that looks whole.
 */
async function download(client: ApiClient, apiPath: string, dest: string, expected: string): Promise<number> {
  await mkdir(path.dirname(dest), { recursive: true });
  const res = await client.fetch(apiPath);
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const partial = `${dest}.partial`;
  try {
    await pipeline(Readable.fromWeb(res.body as never), tap, createWriteStream(partial));
    const got = 'sha256:' + hash.digest('hex');
    if (got !== expected)
      throw new Error(`${dest}: the downloaded content hashes to ${got}, not ${expected}; nothing was kept`);
    await rename(partial, dest);
    return size;
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}

async function downloadOutput(
  client: ApiClient,
  runId: string,
  step: string,
  name: string,
  ref: OutputRef,
  dir: string,
): Promise<void> {
  const base = `/runs/${enc(runId)}/steps/${enc(step)}/outputs/${enc(name)}`;
  const dest = path.join(dir, name);
  if (ref.type === 'file') {
    const size = await download(client, base, dest, ref.hash);
    return out(`${step}/${name} → ${dest} (${formatBytes(size)}, sha256 verified)`);
  }
  const listing = await client.json<{ hash: string; files: Manifest }>(base);
  // The listing must be the manifest the run recorded: its canonical hash is the output's hash.
  if (encodeManifest(listing.files).hash !== ref.hash)
    throw new Error(`${step}/${name}: the file listing does not match the output's hash ${ref.hash}`);
  let total = 0;
  for (const f of listing.files) {
    const rel = safeRelativePath(f.path);
    if (!rel) throw new Error(`${step}/${name}: refusing the unsafe path "${f.path}" in its listing`);
    total += await download(client, `${base}?path=${enc(rel)}`, path.join(dest, ...rel.split('/')), f.hash);
  }
  out(
    `${step}/${name} → ${dest}/ (${listing.files.length} files, ${formatBytes(total)}, every sha256 verified)`,
  );
}

const show = (v: unknown) =>
  v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
const fmt = (v: number | null) =>
  v === null ? '—' : Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString();

export function register(program: Command): void {
  const cmd = program.commands.find((c) => c.name() === 'runs');
  if (!cmd) throw new Error('the runs command must be registered before runs-data');

  cmd
    .command('outputs')
    .description('Download a step’s outputs (or one of them) and verify each file’s sha256')
    .argument('<run>', 'run id')
    .argument('<step>', 'step name')
    .argument('[name]', 'output name (default: every output of the step)')
    .option('-o, --out <dir>', 'directory to write into', '.')
    .action(
      async (
        runId: string,
        stepName: string,
        name: string | undefined,
        opts: { out: string },
        c: Command,
      ) => {
        const client = ApiClient.fromCommand(c);
        const run = await client.json<{
          steps: Array<{ name: string; status: string; outputs?: Record<string, OutputRef> }>;
        }>(`/runs/${enc(runId)}`);
        const s = run.steps.find((x) => x.name === stepName);
        if (!s)
          throw new Error(
            `run ${runId} has no step "${stepName}"; its steps: ${run.steps.map((x) => x.name).join(', ')}`,
          );
        const outputs = s.outputs ?? {};
        const names = name ? [name] : Object.keys(outputs);
        if (!names.length)
          throw new Error(`step ${stepName} of run ${runId} has no outputs (it is ${s.status})`);
        for (const n of names) {
          const ref = outputs[n];
          if (!ref)
            throw new Error(
              `step ${stepName} has no output "${n}"; its outputs: ${Object.keys(outputs).join(', ') || 'none'}`,
            );
          await downloadOutput(client, runId, stepName, n, ref, opts.out);
        }
      },
    );

  cmd
    .command('metrics')
    .description('A run’s metrics: last, min and max of each series, per step')
    .argument('<run>', 'run id')
    .option('--json', 'print the series (every point) as JSON')
    .action(async (runId: string, opts: { json?: boolean }, c: Command) => {
      const m = await ApiClient.fromCommand(c).json<{ series: MetricSeries[] }>(
        `/runs/${enc(runId)}/metrics`,
      );
      if (opts.json) return out(JSON.stringify(m, null, 2));
      if (!m.series.length) return out('no metrics');
      const rows = [['STEP', 'METRIC', 'LAST', 'MIN', 'MAX', 'POINTS']];
      for (const s of m.series)
        rows.push([s.step, s.name, fmt(s.last), fmt(s.min), fmt(s.max), String(s.points.length)]);
      out(table(rows));
    });

  cmd
    .command('compare')
    .description('Runs side by side: parameters, cache decisions, durations, metrics (* marks differences)')
    .argument('<runs...>', 'two or more run ids')
    .option('--all', 'show rows that are the same in every run too')
    .option('--json', 'print JSON')
    .action(async (ids: string[], opts: { all?: boolean; json?: boolean }, c: Command) => {
      const d = await ApiClient.fromCommand(c).json<Comparison>(
        `/runs/compare?ids=${ids.map(enc).join(',')}`,
      );
      if (opts.json) return out(JSON.stringify(d, null, 2));
      const head = ['', ...d.runs.map((r) => r.runId)];
      const rows: string[][] = [head];
      const mark = (differs: boolean, name: string) => `${differs ? '* ' : '  '}${name}`;
      rows.push([
        '  pipeline',
        ...d.runs.map((r) => `${r.pipeline} ${r.version > 0 ? `v${r.version}` : `draft ${-r.version}`}`),
      ]);
      rows.push(['  status', ...d.runs.map((r) => r.status)]);
      rows.push([
        '  duration',
        ...d.runs.map((r) => (r.durationMs === undefined ? '—' : `${(r.durationMs / 1000).toFixed(1)} s`)),
      ]);
      const section = (title: string) => rows.push([title.toUpperCase(), ...d.runs.map(() => '')]);
      section('parameters');
      for (const p of d.parameters)
        if (opts.all || p.differs) rows.push([mark(p.differs, p.name), ...p.values.map(show)]);
      section('steps');
      for (const s of d.steps)
        rows.push([
          mark(s.differs, s.name),
          ...s.values.map((v) =>
            v
              ? `${v.status}${v.durationMs !== undefined ? ` ${(v.durationMs / 1000).toFixed(1)}s` : ''}`
              : '—',
          ),
        ]);
      section('metrics (last)');
      for (const m of d.metrics)
        if (opts.all || m.differs) rows.push([mark(m.differs, m.name), ...m.values.map(fmt)]);
      out(table(rows));
      if (!opts.all) out('(rows the same in every run are hidden; --all shows them)');
    });
}
