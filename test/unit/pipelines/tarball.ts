import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export interface TarEntry {
  name: string;
  type?: 'file' | 'symlink' | 'link' | 'directory' | 'fifo';
  content?: string;
  linkname?: string;
  mode?: number;
  mtime?: Date;
}

/** A tar.gz holding exactly these entries, in this order (hostile names included). */
export async function tarGz(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    await new Promise<void>((res, rej) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        mtime: e.mtime ?? new Date(1_700_000_000_000),
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      };
      if (type === 'file')
        pack.entry({ ...header, size: Buffer.byteLength(e.content ?? '') }, e.content ?? '', (err) =>
          err ? rej(err) : res(),
        );
      else pack.entry(header, (err) => (err ? rej(err) : res()));
    });
  }
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}
