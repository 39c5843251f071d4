import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ApiClient } from '../api-client';
import { formatTable as table } from '../table';

/** `sluice pipelines list|show NAME`. */

interface Summary {
  name: string;
  latestVersion: number;
  defaultVersion: number;
  pinnedVersion: number | null;
  enabled: boolean;
  description?: string;
  updatedAt?: string;
}

export function register(program: Command): void {
  const cmd = program.command('pipelines').description('Browse published pipelines');

  cmd
    .command('list')
    .description('List pipelines')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, c: Command) => {
      const client = ApiClient.fromCommand(c);
      const items: Summary[] = [];
      let token: string | undefined;
      do {
        const q = token ? `?continuationToken=${encodeURIComponent(token)}` : '';
        const page = await client.json<{ items: Summary[]; continuationToken?: string }>(`/pipelines${q}`);
        items.push(...page.items);
        token = page.continuationToken;
      } while (token);
      if (opts.json) return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
      if (!items.length)
        return void process.stdout.write('no pipelines yet; publish one with `sluice publish FILE`\n');
      const rows = [['NAME', 'LATEST', 'DEFAULT', 'ENABLED', 'DESCRIPTION']];
      for (const p of items.sort((a, b) => a.name.localeCompare(b.name)))
        rows.push([
          p.name,
          String(p.latestVersion),
          `${p.defaultVersion}${p.pinnedVersion ? ' (pinned)' : ''}`,
          p.enabled ? 'yes' : 'no',
          (p.description ?? '').slice(0, 50),
        ]);
      process.stdout.write(table(rows) + '\n');
    });

  cmd
    .command('show')
    .description('Show a pipeline, its versions, and (with --definition) a version’s definition')
    .argument('<name>', 'pipeline name, or NAME@VERSION for that version’s definition')
    .option(
      '--definition',
      'print the stored definition (of the default version unless NAME@VERSION) as YAML',
    )
    .option('--json', 'print JSON')
    .action(async (arg: string, opts: { definition?: boolean; json?: boolean }, c: Command) => {
      const client = ApiClient.fromCommand(c);
      const [name, version] = arg.split('@') as [string, string | undefined];
      const enc = encodeURIComponent(name);
      if (opts.definition || version) {
        const v = await client.json<{ version: number; definition: unknown; definitionHash: string }>(
          `/pipelines/${enc}/versions/${encodeURIComponent(version || 'default')}`,
        );
        if (opts.json) return void process.stdout.write(JSON.stringify(v, null, 2) + '\n');
        process.stdout.write(`# ${name}@${v.version} ${v.definitionHash}\n${stringify(v.definition)}`);
        return;
      }
      const p = await client.json<
        Summary & { versions: Array<{ version: number; definitionHash: string; createdAt: string }> }
      >(`/pipelines/${enc}`);
      if (opts.json) return void process.stdout.write(JSON.stringify(p, null, 2) + '\n');
      const lines = [
        `${p.name}${p.description ? ` — ${p.description}` : ''}`,
        `  enabled:  ${p.enabled ? 'yes' : 'no (DELETE disabled it; runs and data are kept)'}`,
        `  latest:   ${p.latestVersion}`,
        `  default:  ${p.defaultVersion}${p.pinnedVersion ? ' (pinned)' : ' (follows latest)'}`,
        '',
      ];
      const rows = [['VERSION', 'CREATED', 'HASH']];
      for (const v of p.versions)
        rows.push([String(v.version), v.createdAt, v.definitionHash.slice(0, 19) + '…']);
      process.stdout.write(lines.join('\n') + table(rows) + '\n');
    });
}
