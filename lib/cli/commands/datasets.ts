import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Command } from 'commander';
import { pack as tarPack } from 'tar-stream';
import { ApiClient, call } from '../api-client';
import { printTable, formatBytes } from '../table';

/** `sluice datasets register|list|show`: versioned data over the REST API. */
export function register(program: Command): void {
  const ds = program.command('datasets').description('register and inspect versioned datasets');

  ds.command('register')
    .description('upload a file or directory as a new version of NAME (no new version when unchanged)')
    .argument('<name>', 'dataset name')
    .argument('[path]', 'local file or directory')
    .option('--blob <container/path>', 'register blobs already in the storage account instead of uploading')
    .action(async (name: string, path: string | undefined, o: { blob?: string }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const url = `/datasets/${encodeURIComponent(name)}`;
      let res: DatasetVersionOut;
      if (o.blob) {
        if (path) throw new Error('give either PATH or --blob, not both');
        res = await call(() => api.post<DatasetVersionOut>(url, { path: o.blob }));
      } else {
        if (!path) throw new Error('PATH is required (a file or a directory), or use --blob container/path');
        const st = await stat(path).catch(() => undefined);
        if (!st) throw new Error(`${path} does not exist`);
        const body = st.isDirectory() ? tarGz(path) : createReadStream(path);
        res = await call(() =>
          api.json<DatasetVersionOut>(url, {
            method: 'POST',
            headers: { 'content-type': st.isDirectory() ? 'application/gzip' : 'application/octet-stream' },
            body: Readable.toWeb(body) as unknown as RequestInit['body'],
            duplex: 'half',
          } as RequestInit),
        );
      }
      console.log(`${res.name}@${res.version}`);
      console.error(
        res.created
          ? `registered ${res.type} ${res.hash} (${res.files} file(s), ${formatBytes(res.size)})`
          : `unchanged: the content equals version ${res.version}`,
      );
    });

  ds.command('list')
    .description('datasets with their latest version')
    .option('--limit <n>', 'page size', '50')
    .option('--all', 'follow continuation tokens to the end')
    .action(async (o: { limit: string; all?: boolean }, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      let token: string | undefined;
      const rows: string[][] = [['NAME', 'LATEST', 'TYPE', 'SIZE', 'HASH', 'UPDATED']];
      do {
        const q = new URLSearchParams({ limit: o.limit, ...(token ? { continuationToken: token } : {}) });
        const page = await call(() =>
          api.json<{
            items: Array<{ name: string; latest: DatasetVersionOut; updatedAt: string }>;
            continuationToken?: string;
          }>(`/datasets?${q}`),
        );
        for (const d of page.items)
          rows.push([
            d.name,
            `@${d.latest.version}`,
            d.latest.type,
            formatBytes(d.latest.size),
            d.latest.hash.slice(0, 19),
            d.updatedAt,
          ]);
        token = page.continuationToken;
        if (token && !o.all) {
          printTable(rows);
          console.error('more datasets: pass --all');
          return;
        }
      } while (token);
      printTable(rows);
    });

  ds.command('show')
    .description('a dataset and its versions, or one version with NAME@VERSION')
    .argument('<ref>', 'NAME or NAME@VERSION')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const api = ApiClient.fromCommand(cmd);
      const at = ref.lastIndexOf('@');
      if (at > 0) {
        const v = await call(() =>
          api.json<DatasetVersionOut>(
            `/datasets/${encodeURIComponent(ref.slice(0, at))}/versions/${encodeURIComponent(ref.slice(at + 1))}`,
          ),
        );
        console.log(JSON.stringify(v, null, 2));
        return;
      }
      const d = await call(() =>
        api.json<{ name: string; items: DatasetVersionOut[]; continuationToken?: string }>(
          `/datasets/${encodeURIComponent(ref)}`,
        ),
      );
      const rows = [['VERSION', 'TYPE', 'FILES', 'SIZE', 'HASH', 'SOURCE', 'CREATED']];
      for (const v of d.items)
        rows.push([
          String(v.version),
          v.type,
          String(v.files),
          formatBytes(v.size),
          v.hash,
          sourceText(v.source),
          v.createdAt,
        ]);
      console.log(`dataset ${d.name}`);
      printTable(rows);
    });
}

function sourceText(src: DatasetVersionOut['source']): string {
  if (src.kind === 'blob') return `blob ${src.path}`;
  if (src.kind === 'run') return `run ${src.runId} ${src.step}${src.output ? '.' + src.output : ''}`;
  return 'upload';
}

interface DatasetVersionOut {
  name: string;
  version: number;
  hash: string;
  type: 'file' | 'directory';
  size: number;
  files: number;
  source: { kind: 'upload' | 'blob' | 'run'; path?: string; runId?: string; step?: string; output?: string };
  createdAt: string;
  created?: boolean;
}

/** A tar.gz stream of a directory's regular files (paths relative, POSIX), streamed file by file. */
function tarGz(dir: string): Readable {
  const out = new PassThrough();
  const p = tarPack();
  void (async () => {
    const stack = [dir];
    while (stack.length) {
      const d = stack.pop()!;
      for (const ent of (await readdir(d, { withFileTypes: true })).sort((a, b) =>
        a.name.localeCompare(b.name),
      )) {
        const abs = join(d, ent.name);
        if (ent.isDirectory()) stack.push(abs);
        else {
          const st = await stat(abs).catch(() => undefined);
          if (!st?.isFile()) continue;
          const name = relative(dir, abs).split(sep).join('/');
          await new Promise<void>((resolve, reject) => {
            const entry = p.entry({ name, size: st.size, mode: st.mode & 0o777 }, (err) =>
              err ? reject(err) : resolve(),
            );
            createReadStream(abs).on('error', reject).pipe(entry);
          });
        }
      }
    }
    p.finalize();
  })().catch((e: unknown) => p.destroy(e as Error));
  pipeline(p, createGzip({ level: 1 }), out).catch((e: unknown) => out.destroy(e as Error));
  return out;
}
