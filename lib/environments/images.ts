/**
 * Images a step logs with `sluice.run.log_image` (or azureml's `run.log_image`): the helper saves them as
 * `$SLUICE_IMAGES/<name>.png`; after the step the agent stores each in the content store and the step
 * record lists them (`steps[].images`: name, hash, size), readable at `GET /api/artifacts/{hash}`.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { putFile } from '../data/cas';

export interface StepImage {
  name: string;
  hash: string;
  size: number;
}

/** At most this many images per step, of at most this size each: a log, not an output channel. */
const MAX_IMAGES = 50;
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

export async function collectImages(dir: string, note: (line: string) => void): Promise<StepImage[]> {
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => /\.(png|jpe?g|svg|gif)$/i.test(n))
    .sort();
  const out: StepImage[] = [];
  for (const n of names.slice(0, MAX_IMAGES)) {
    const p = join(dir, n);
    const st = await stat(p).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (st.size > MAX_IMAGE_BYTES) {
      note(`image ${n} skipped: ${st.size} bytes is over ${MAX_IMAGE_BYTES}`);
      continue;
    }
    const r = await putFile(p);
    out.push({ name: n.replace(/\.[^.]+$/, ''), hash: r.hash, size: r.size });
    note(`image ${n}: ${r.hash}`);
  }
  if (names.length > MAX_IMAGES)
    note(`${names.length - MAX_IMAGES} image(s) over the limit of ${MAX_IMAGES} skipped`);
  return out;
}
