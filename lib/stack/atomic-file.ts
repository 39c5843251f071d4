/**
 * Replacing a file atomically: the new content is written to `<file>.tmp` and fsynced, renamed over the
 * file, then the directory is fsynced. A reader (or a restart after a crash) sees the old file or the
 * new one, never a mix. Used for the stack's snapshots and fresh journals.
 */
import fs from 'node:fs';

/** Writes `text` to `file` atomically (tmp, fsync, rename, fsync dir). */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(file.slice(0, Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'))) || '.');
}

/** Fsyncs a directory so a rename in it survives a power loss; a no-op where that is not supported. */
export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Directory fsync is not supported everywhere (Windows); the rename is still atomic.
  }
}
