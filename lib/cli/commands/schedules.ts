import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ApiClient, call } from '../api-client';
import { printTable } from '../table';

/** `sluice schedules create|list|show|enable|disable|delete|history`: schedules over the REST API. */
export function register(program: Command): void {
  const s = program.command('schedules').description('run pipelines on a schedule (cron or recurrence)');

  s.command('create')
    .description('create a schedule from a YAML/JSON file, or from flags')
    .argument('[name]', 'schedule name (or give it in the file)')
    .option('-f, --file <path>', 'YAML or JSON schedule document')
    .option('--pipeline <name>', 'pipeline to run')
    .option(
      '--pipeline-version <n>',
      "pipeline version (default: the pipeline's default version at fire time)",
    )
    .option('--cron <expr>', 'cron expression: 5 fields, or 6 with seconds first')
    .option('--time-zone <iana>', 'IANA time zone, e.g. Europe/Amsterdam (default UTC)')
    .option('--param <k=v>', 'parameter (repeatable; values parsed as JSON when they can be)', collect, [])
    .option('--input <k=ref>', 'input binding, e.g. raw=churn-raw@latest (repeatable)', collect, [])
    .option('--overlap <policy>', 'skip | allow | cancelPrevious (default skip)')
    .option('--catch-up <policy>', 'none | latest | all (default latest)')
    .option('--catch-up-limit <n>', 'with --catch-up all: most missed occurrences run (default 100)')
    .option('--disabled', 'create it disabled')
    .action(async (name: string | undefined, o: CreateOptions, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const body = await scheduleBody(name, o);
      const created = await call(() => api.post<ScheduleOut>('/schedules', body));
      console.log(`created schedule ${created.name}`);
      printSchedule(created);
    });

  s.command('list')
    .description('schedules with their next fire time')
    .option('--limit <n>', 'page size', '50')
    .option('--all', 'follow continuation tokens to the end')
    .action(async (o: { limit: string; all?: boolean }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const rows = [['NAME', 'PIPELINE', 'RULE', 'TIME ZONE', 'ENABLED', 'OVERLAP', 'CATCH-UP', 'NEXT']];
      let token: string | undefined;
      do {
        const q = new URLSearchParams({ limit: o.limit, ...(token ? { continuationToken: token } : {}) });
        const page = await call(() =>
          api.json<{ items: ScheduleOut[]; continuationToken?: string }>(`/schedules?${q}`),
        );
        for (const x of page.items)
          rows.push([
            x.name,
            x.version ? `${x.pipeline}@${x.version}` : x.pipeline,
            ruleText(x),
            x.timeZone,
            x.enabled ? 'yes' : 'no',
            x.overlap,
            x.catchUp,
            x.nextFireTimes[0] ?? '-',
          ]);
        token = page.continuationToken;
        if (token && !o.all) {
          printTable(rows);
          console.error('more schedules: pass --all');
          return;
        }
      } while (token);
      printTable(rows);
    });

  s.command('show')
    .description('a schedule, its next five fire times and its recent decisions')
    .argument('<name>')
    .option('--json', 'print the schedule as JSON')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const x = await call(() => api.json<ScheduleOut>(`/schedules/${encodeURIComponent(name)}`));
      if (o.json) {
        console.log(JSON.stringify(x, null, 2));
        return;
      }
      printSchedule(x);
      const h = await call(() =>
        api.json<{ items: HistoryOut[] }>(`/schedules/${encodeURIComponent(name)}/history?limit=10`),
      );
      if (h.items.length) {
        console.log('\nrecent decisions:');
        printTable([
          ['OCCURRENCE', 'DECISION', 'RUN', 'DETAIL'],
          ...h.items.map((e) => [
            e.occurrence ?? '',
            e.decision,
            e.runId ?? '',
            e.decision === 'missed' ? `${e.count} until ${e.until}: ${e.reason}` : (e.reason ?? ''),
          ]),
        ]);
      }
    });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const)
    s.command(verb)
      .description(
        enabled
          ? 'enable a schedule (occurrences while it was disabled do not run)'
          : 'disable a schedule (it keeps its history)',
      )
      .argument('<name>')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const api = ApiClient.fromCommand(cmd);
        const x = await call(() =>
          api.json<ScheduleOut>(`/schedules/${encodeURIComponent(name)}`, {
            method: 'PATCH',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ enabled }),
          }),
        );
        console.log(`${x.name} ${enabled ? 'enabled' : 'disabled'}`);
        if (enabled) console.log(`next: ${x.nextFireTimes[0] ?? '-'}`);
      });

  s.command('delete')
    .description('delete a schedule and its history (runs it started are kept)')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      await call(() => api.fetch(`/schedules/${encodeURIComponent(name)}`, { method: 'DELETE' }));
      console.log(`deleted schedule ${name}`);
    });
}

interface CreateOptions {
  file?: string;
  pipeline?: string;
  pipelineVersion?: string;
  cron?: string;
  timeZone?: string;
  param: string[];
  input: string[];
  overlap?: string;
  catchUp?: string;
  catchUpLimit?: string;
  disabled?: boolean;
}

interface ScheduleOut {
  name: string;
  pipeline: string;
  version?: number;
  cron?: string;
  recurrence?: { frequency: string; interval: number; startTime?: string };
  timeZone: string;
  enabled: boolean;
  overlap: string;
  catchUp: string;
  catchUpLimit: number;
  lastEvaluated: string;
  lastRun?: { runId: string; occurrence: string };
  nextFireTimes: string[];
}

interface HistoryOut {
  occurrence?: string;
  decision: string;
  runId?: string;
  reason?: string;
  count?: number;
  until?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function pairs(items: string[], what: string, parseValue: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`--${what} "${item}" is not key=value`);
    const raw = item.slice(eq + 1);
    let v: unknown = raw;
    if (parseValue)
      try {
        v = JSON.parse(raw);
      } catch {
        v = raw;
      }
    out[item.slice(0, eq)] = v;
  }
  return out;
}

/** The POST body: the file (if any), with flags layered over it. The server validates everything. */
export async function scheduleBody(
  name: string | undefined,
  o: CreateOptions,
): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  if (o.file) {
    const text = await readFile(o.file, 'utf8');
    let doc: unknown;
    try {
      doc = parseYaml(text) as unknown; // YAML is a superset of JSON
    } catch (e) {
      throw new Error(`${o.file} is not YAML or JSON: ${(e as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new Error(`${o.file} must hold a schedule mapping (name, pipeline, cron or recurrence, …)`);
    body = doc as Record<string, unknown>;
  }
  if (name) body.name = name;
  if (o.pipeline) body.pipeline = o.pipeline;
  if (o.pipelineVersion !== undefined) body.version = Number(o.pipelineVersion);
  if (o.cron) body.cron = o.cron;
  if (o.timeZone) body.timeZone = o.timeZone;
  if (o.param.length) body.parameters = { ...(body.parameters as object), ...pairs(o.param, 'param', true) };
  if (o.input.length) body.inputs = { ...(body.inputs as object), ...pairs(o.input, 'input', false) };
  if (o.overlap) body.overlap = o.overlap;
  if (o.catchUp) body.catchUp = o.catchUp;
  if (o.catchUpLimit !== undefined) body.catchUpLimit = Number(o.catchUpLimit);
  if (o.disabled) body.enabled = false;
  if (!body.name)
    throw new Error('a schedule needs a name: sluice schedules create NAME … (or name: in the file)');
  return body;
}

function ruleText(x: ScheduleOut): string {
  if (x.cron) return `cron ${x.cron}`;
  const r = x.recurrence!;
  return `every ${r.interval} ${r.frequency}${r.interval === 1 ? '' : 's'}`;
}

function printSchedule(x: ScheduleOut): void {
  console.log(`schedule  ${x.name}${x.enabled ? '' : ' (disabled)'}`);
  console.log(`pipeline  ${x.version ? `${x.pipeline}@${x.version}` : `${x.pipeline} (default version)`}`);
  console.log(`rule      ${ruleText(x)} in ${x.timeZone}`);
  console.log(`policies  overlap ${x.overlap}, catchUp ${x.catchUp} (limit ${x.catchUpLimit})`);
  if (x.lastRun) console.log(`last run  ${x.lastRun.runId} for ${x.lastRun.occurrence}`);
  console.log(`next      ${x.nextFireTimes.length ? x.nextFireTimes.join('\n          ') : '-'}`);
}
