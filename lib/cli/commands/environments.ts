import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { specFromFileText } from '../../environments/file';
import { ApiClient, call } from '../api-client';
import { printTable } from '../table';

interface VersionOut {
  name: string;
  version: number;
  specHash: string;
  spec: unknown;
  createdAt: string;
  created?: boolean;
}

/** `sluice environments publish|list|show`: named, versioned step environments. */
export function register(program: Command): void {
  const envs = program.command('environments').description('publish and inspect named step environments');

  envs
    .command('publish')
    .description(
      'publish FILE (a spec {python, requirements…}, a conda environment.yml or a requirements.txt) as the next version of NAME',
    )
    .argument('<name>', 'environment name; steps use it as NAME@VERSION or NAME@latest')
    .argument('<file>', 'spec file')
    .option('--description <text>', 'shown in listings')
    .action(async (name: string, file: string, o: { description?: string }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const spec = specFromFileText(file, await readFile(file, 'utf8'));
      const v = await call(() =>
        api.json<VersionOut>(`/environments/${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ spec, ...(o.description ? { description: o.description } : {}) }),
        }),
      );
      console.log(`${v.name}@${v.version}`);
      console.error(
        v.created
          ? `published (spec ${v.specHash.slice(0, 19)}…)`
          : `unchanged: the spec equals version ${v.version}`,
      );
    });

  envs
    .command('list')
    .description('named environments with their latest version')
    .action(async (_o: unknown, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const r = await call(() =>
        api.json<{
          items: Array<{ name: string; latestVersion: number; updatedAt: string; description?: string }>;
        }>('/environments'),
      );
      const rows = [['NAME', 'LATEST', 'UPDATED', 'DESCRIPTION']];
      for (const e of r.items) rows.push([e.name, `@${e.latestVersion}`, e.updatedAt, e.description ?? '']);
      printTable(rows);
    });

  envs
    .command('show')
    .description('an environment and its versions, or one version with its spec (NAME@VERSION, NAME@latest)')
    .argument('<ref>', 'NAME or NAME@VERSION')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const at = ref.lastIndexOf('@');
      if (at > 0) {
        const v = await call(() =>
          api.json<VersionOut>(
            `/environments/${encodeURIComponent(ref.slice(0, at))}/versions/${encodeURIComponent(ref.slice(at + 1))}`,
          ),
        );
        console.log(JSON.stringify(v, null, 2));
        return;
      }
      const e = await call(() =>
        api.json<{ name: string; versions: Array<{ version: number; specHash: string; createdAt: string }> }>(
          `/environments/${encodeURIComponent(ref)}`,
        ),
      );
      console.log(`environment ${e.name}`);
      printTable([
        ['VERSION', 'SPEC HASH', 'CREATED'],
        ...e.versions.map((v) => [String(v.version), v.specHash, v.createdAt]),
      ]);
    });
}
