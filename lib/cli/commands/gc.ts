import type { Command } from 'commander';
import { ApiClient, call } from '../api-client';
import type { GcReport } from '../../data/gc-report';
import { formatBytes } from '../table';

/** Hashes printed by the human form; `--json` lists up to the report's limit. */
const SHOWN = 10;

/** `sluice gc [--dry-run] [--json]`: one artifact garbage collection through `POST /api/gc`. */
export function register(program: Command): void {
  program
    .command('gc')
    .description(
      'delete stored artifacts that no dataset, cache entry or run references (needs the master key as --key)',
    )
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .option('--json', 'print the whole report as JSON')
    .action(async (o: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const r = await call(() =>
        api.json<GcReport>(`/gc${o.dryRun ? '?dryRun=true' : ''}`, { method: 'POST' }),
      );
      if (o.json) {
        console.log(JSON.stringify(r, null, 2));
        return;
      }
      for (const line of gcReportLines(r)) console.log(line);
    });
}

/** The report as a few lines of text. */
export function gcReportLines(r: GcReport): string[] {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const seconds = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
  const lines = [
    `${r.dryRun ? 'dry run: ' : ''}${verb} ${r.deleted} of ${r.scanned} stored blob(s), ${formatBytes(r.bytesFreed)}` +
      (r.dryRun ? '' : `, and ${r.lineageDeleted} lineage document(s)`) +
      ` in ${seconds.toFixed(1)} s`,
    `reachable: ${r.marked} hash(es) from ${r.roots.datasetVersions} dataset version(s), ${r.roots.cacheEntries} cache entr(ies), ${r.roots.runs} run(s)`,
    `kept: ${r.keptYoung} unreferenced blob(s) modified after ${r.cutoff}` +
      (r.skipped ? `; ${r.skipped} reused while collecting` : ''),
  ];
  if (r.heldBackBy)
    lines.push(
      `cut-off held back by run ${r.heldBackBy.runId} (${r.heldBackBy.status} since ${r.heldBackBy.createdAt})`,
    );
  if (r.missing) lines.push(`warning: ${r.missing} referenced directory manifest(s) are missing`);
  for (const b of r.collected.slice(0, SHOWN))
    lines.push(
      `  ${r.dryRun ? 'would delete' : 'deleted'} ${b.hash} ${formatBytes(b.size)} (modified ${b.lastModified})`,
    );
  const more = r.deleted - Math.min(SHOWN, r.collected.length);
  if (more > 0) lines.push(`  … and ${more} more (--json lists up to ${r.collected.length})`);
  return lines;
}
