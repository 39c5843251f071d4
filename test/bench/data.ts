/**
 * Data benchmark: hashing and uploading a directory of mixed file sizes (many small, some medium, a
 * few large; 1 GiB by default, `SLUICE_BENCH_DATA_MB` to change) into the content-addressed store on
 * Azurite (in-memory), against `sha256sum` on the same files, with this process's peak RSS.
 * Prints `name value` lines.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, readdirSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmbeddedStack } from '../../lib/stack';
import { getClients } from '../../lib/azure/clients';
import {
  ARTIFACTS_CONTAINER,
  clearHashCache,
  hashDirectory,
  putDirectory,
  putFile,
  putStream,
} from '../../lib/data/cas';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

function line(name: string, value: number, digits = 1): void {
  console.log(`data.${name} ${value.toFixed(digits)}`);
}

/** Writes `size` bytes of incompressible, file-unique content without holding the file in memory. */
async function writeFileOf(path: string, size: number, pool: Buffer): Promise<void> {
  const out = createWriteStream(path);
  const unique = Buffer.from(randomUUID());
  let written = 0;
  let failed: Error | undefined;
  out.on('error', (e) => (failed = e));
  const write = async (b: Buffer): Promise<void> => {
    if (failed) throw failed;
    if (!out.write(b)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  let off = unique.length % pool.length;
  await write(unique.subarray(0, Math.min(unique.length, size)));
  written += Math.min(unique.length, size);
  while (written < size) {
    const n = Math.min(size - written, pool.length - off, MiB);
    await write(pool.subarray(off, off + n));
    written += n;
    off = (off + n + 4099) % (pool.length - 1);
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

/** ~10 % of bytes in 4–64 KiB files, ~30 % in 1–8 MiB files, the rest in a few large files. */
async function makeTree(root: string, totalMb: number): Promise<{ files: number; bytes: number }> {
  const pool = randomBytes(8 * MiB);
  const total = totalMb * MiB;
  let files = 0;
  let bytes = 0;
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const add = async (dir: string, size: number): Promise<void> => {
    await mkdir(join(root, dir), { recursive: true });
    await writeFileOf(join(root, dir, `f${files}.bin`), size, pool);
    files++;
    bytes += size;
  };
  for (let b = 0; b < total * 0.1;) {
    const s = Math.floor(4096 + rand() * 60 * 1024);
    await add(`small/${files % 50}`, s);
    b += s;
  }
  for (let b = 0; b < total * 0.3;) {
    const s = Math.floor(MiB + rand() * 7 * MiB);
    await add('medium', s);
    b += s;
  }
  const large = Math.max(1, Math.min(4, Math.round(totalMb / 200)));
  const remaining = total - bytes;
  for (let i = 0; i < large && remaining > 0; i++) await add('large', Math.floor(remaining / large));
  return { files, bytes };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/**
 * Runs the measurement in a child process: peak RSS is a lifetime maximum, so sharing the process
 * with other benchmarks (npm run bench) would report their peaks as ours.
 */
export async function run(): Promise<void> {
  if (process.env.SLUICE_BENCH_DATA_CHILD === '1') return measure();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [__filename], {
      env: { ...process.env, SLUICE_BENCH_DATA_CHILD: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`data benchmark exited with ${code}`)),
    );
  });
}

async function measure(): Promise<void> {
  const totalMb = Number(process.env.SLUICE_BENCH_DATA_MB || 1024);
  const tmp = await mkdtemp(join(os.tmpdir(), 'sluice-bench-data-'));
  const stack = await startEmbeddedStack({ dataDir: tmp, inMemory: true, env: {}, writeStackFile: false });
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(stack.env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    const tree = join(tmp, 'tree');
    const made = await makeTree(tree, totalMb);
    const rssBefore = process.resourceUsage().maxRSS / 1024;
    const mb = made.bytes / MiB;
    line('files', made.files, 0);
    line('total_mb', mb);

    // Warm the page cache the same way for every contender: both read the files as just written.
    const sums = await timed(() =>
      exec('sh', ['-c', `find "${tree}" -type f -print0 | xargs -0 sha256sum > /dev/null`], {
        maxBuffer: 1 << 20,
      }),
    );
    const sumsAgain = await timed(() =>
      exec('sh', ['-c', `find "${tree}" -type f -print0 | xargs -0 sha256sum > /dev/null`], {
        maxBuffer: 1 << 20,
      }),
    );
    const sha256sumMbps = mb / (Math.min(sums.ms, sumsAgain.ms) / 1000);
    line('sha256sum_mb_per_s', sha256sumMbps);

    // Best of two, as for sha256sum: the machine is shared, and the second pass has the same cache state.
    const hashed = await timed(() => hashDirectory(tree));
    const hashedAgain = await timed(() => hashDirectory(tree));
    const hashMbps = mb / (Math.min(hashed.ms, hashedAgain.ms) / 1000);
    line('hash_mb_per_s', hashMbps);
    line('hash_vs_sha256sum_pct', (100 * hashMbps) / sha256sumMbps);

    const put = await timed(() => putDirectory(tree));
    if (put.value.hash !== hashed.value.hash) throw new Error('putDirectory and hashDirectory disagree');
    const putMbps = mb / (put.ms / 1000);
    line('hash_upload_mb_per_s', putMbps);
    line('peak_rss_before_put_mb', rssBefore);
    line('peak_rss_after_put_mb', process.resourceUsage().maxRSS / 1024);
    line('hash_upload_vs_sha256sum_pct', (100 * putMbps) / sha256sumMbps);

    // Everything exists now: a cold re-put (no cached hashes) hashes, asks, and uploads nothing.
    clearHashCache();
    const again = await timed(() => putDirectory(tree));
    line('reput_existing_mb_per_s', mb / (again.ms / 1000));
    line('reput_uploaded_bytes', again.value.uploadedBytes, 0);

    // Strategy check for content of unknown hash: stage blocks on a temporary blob while hashing, then
    // copy under the hash name, versus a plain upload to a known name (the lower bound).
    const big = join(tree, 'large', readdirSync(join(tree, 'large'))[0]!);
    const c = getClients().blob.getContainerClient(ARTIFACTS_CONTAINER);
    const direct = await timed(() =>
      c
        .getBlockBlobClient(`bench/${randomUUID()}`)
        .uploadStream(createReadStream(big, { highWaterMark: MiB }), 4 * MiB, 4),
    );
    const bigHash = put.value.manifest.find((e) => big.endsWith(e.path))!.hash;
    await c.deleteBlob(`sha256/${bigHash.slice(7)}`);
    const staged = await timed(() => putStream(createReadStream(big, { highWaterMark: MiB })));
    await c.deleteBlob(`sha256/${bigHash.slice(7)}`);
    clearHashCache();
    const hashFirst = await timed(() => putFile(big));
    const bigMb = staged.value.size / MiB;
    line('large_file_mb', bigMb);
    line('stream_stage_copy_mb_per_s', bigMb / (staged.ms / 1000));
    line('file_hash_first_mb_per_s', bigMb / (hashFirst.ms / 1000));
    line('plain_upload_mb_per_s', bigMb / (direct.ms / 1000));

    line('peak_rss_mb', process.resourceUsage().maxRSS / 1024);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await stack.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  (process.env.SLUICE_BENCH_DATA_CHILD === '1' ? measure() : run()).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
