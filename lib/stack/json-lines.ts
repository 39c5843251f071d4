import fs from 'node:fs';

/**
 * Reads a JSON-lines file (a journal or a snapshot). A tail that is not a complete, parseable line (a
 * write cut short by a crash) is reported in `tailBytes` and, with `cutTail`, cut off the file so appends
 * continue on a clean line. Undefined when the file does not exist.
 */
export function readJsonLines(
  file: string,
  opts: { cutTail: boolean },
): { records: unknown[]; tailBytes: number } | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const records: unknown[] = [];
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    try {
      records.push(JSON.parse(buf.toString('utf8', start, nl)));
    } catch {
      break;
    }
    start = nl + 1;
  }
  const tailBytes = buf.length - start;
  if (tailBytes > 0 && opts.cutTail) fs.truncateSync(file, start);
  return { records, tailBytes };
}
