import type { Command } from 'commander';
import { ApiClient } from '../api-client';
import { coerceCliParameter } from '../../runs/parameters';
import { watchRun } from '../../runs/watch';
import { isDefinitionFile, packDraft } from './run-draft';

/**
 * `sluice run NAME [--param k=v]… [--input k=ref]… [--version N] [--wait]`; `sluice run FILE.yaml …` runs
 * a local definition as a draft, without publishing it (lib/cli/commands/run-draft.ts).
 */

const collect = (v: string, acc: string[]): string[] => [...acc, v];

function pairs(list: string[], flag: string): Array<[string, string]> {
  return list.map((p) => {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`${flag} ${p}: expected NAME=VALUE`);
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Start a run of a published pipeline, or of a definition file without publishing it')
    .argument('<name>', 'pipeline name, or a definition file (.yaml, .yml, .json) to run as a draft')
    .option('-p, --param <name=value>', 'a parameter value (repeatable)', collect, [])
    .option(
      '-i, --input <name=ref>',
      'bind a pipeline input to name@version, name@latest or sha256:… (repeatable)',
      collect,
      [],
    )
    .option('-t, --tag <name=value>', 'a tag (repeatable)', collect, [])
    .option('--version <n>', 'pipeline version (default: the pipeline’s default version)')
    .option('--force', 'run every step, reusing nothing (forceRerun)')
    .option('--continue-on-failure', 'keep running independent branches after a step fails')
    .option('--idempotency-key <key>', 'repeat-safe start: the same key returns the same run')
    .option('-w, --wait', 'follow the run until it ends; exit non-zero unless it completes')
    .action(async (name: string, opts: Record<string, any>, c: Command) => {
      const client = ApiClient.fromCommand(c);
      const version = opts.version !== undefined ? Number(opts.version) : undefined;
      if (version !== undefined && (!Number.isInteger(version) || version < 1))
        throw new Error(`--version ${opts.version}: expected a positive integer`);
      // Type each --param by the definition, so `--param epochs=5` is the integer 5 and `--param id=007` stays a string.
      const draft = isDefinitionFile(name) ? await packDraft(name, client, version) : undefined;
      if (draft === null) return void (process.exitCode = 1);
      let types: Record<string, string> = draft?.types ?? {};
      if (opts.param.length && !draft) {
        try {
          const v =
            version ??
            (await client.json<{ defaultVersion: number }>(`/pipelines/${encodeURIComponent(name)}`))
              .defaultVersion;
          const doc = await client.json<{ definition?: { parameters?: Record<string, { type: string }> } }>(
            `/pipelines/${encodeURIComponent(name)}/versions/${v}`,
          );
          types = Object.fromEntries(
            Object.entries(doc.definition?.parameters ?? {}).map(([k, p]) => [k, p.type]),
          );
        } catch {
          /* the start request reports an unknown pipeline or version itself */
        }
      }
      const parameters = Object.fromEntries(
        pairs(opts.param, '--param').map(([k, v]) => [k, coerceCliParameter(v, types[k] as never)]),
      );
      const body: Record<string, unknown> = {};
      if (version !== undefined) body.version = version;
      if (opts.param.length) body.parameters = parameters;
      if (opts.input.length) body.inputs = Object.fromEntries(pairs(opts.input, '--input'));
      if (opts.tag.length) body.tags = Object.fromEntries(pairs(opts.tag, '--tag'));
      if (opts.force) body.forceRerun = true;
      if (opts.continueOnFailure) body.continueOnStepFailure = true;
      const headers: Record<string, string> = opts.idempotencyKey
        ? { 'idempotency-key': opts.idempotencyKey }
        : {};
      const r = draft
        ? await client.post<{ runId: string; status: string; draft: number }>(`/runs/drafts`, {
            ...body,
            definition: draft.definition,
          })
        : await client.post<{ runId: string; status: string }>(
            `/pipelines/${encodeURIComponent(name)}/runs`,
            body,
            headers,
          );
      const what = draft ? `${draft.name} draft ${(r as { draft?: number }).draft}` : name;
      process.stdout.write(`run ${r.runId} started (${what}${version ? ` v${version}` : ''})\n`);
      if (!opts.wait) {
        process.stdout.write(`follow it with: sluice runs show ${r.runId}\n`);
        return;
      }
      const run = await watchRun(client, r.runId);
      if (run.status !== 'Completed') process.exitCode = 1;
    });
}
