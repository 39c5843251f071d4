import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as host from './commands/host';
import * as start from './commands/start';
import * as publish from './commands/publish';
import * as pipelines from './commands/pipelines';
import * as run from './commands/run';
import * as runs from './commands/runs';
import * as runsData from './commands/runs-data';
import * as explain from './commands/explain';
import * as datasets from './commands/datasets';
import * as agent from './commands/agent';
import * as schedules from './commands/schedules';
import * as gc from './commands/gc';
import * as environments from './commands/environments';
import * as compute from './commands/compute';

/** Each command module registers its own subcommand; this file only assembles them. */
const COMMANDS = [
  start,
  host,
  publish,
  pipelines,
  run,
  runs,
  runsData,
  explain,
  datasets,
  agent,
  schedules,
  gc,
  environments,
  compute,
];

export function buildProgram(): Command {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const program = new Command('sluice')
    .description('Sluice: machine-learning pipelines on Azure Functions')
    .version(pkg.version)
    .showHelpAfterError()
    .option('--endpoint <url>', 'Sluice API endpoint (env SLUICE_ENDPOINT)', process.env.SLUICE_ENDPOINT)
    .option('--key <key>', 'function key for the API (env SLUICE_KEY)', process.env.SLUICE_KEY);
  for (const c of COMMANDS) c.register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
