/** Extracting a job's code snapshot through PIPELINES' `extractSnapshot(ref, dir)` (lib/snapshots). */
import { extractSnapshot } from '../snapshots';

/** Extracts `ref` (`snapshot:sha256:<hex>`) into `dir`; `missing` tells a vanished snapshot from other failures. */
export async function extractCode(
  ref: string,
  dir: string,
): Promise<{ ok: true } | { ok: false; missing: boolean; message: string }> {
  try {
    await extractSnapshot(ref, dir);
    return { ok: true };
  } catch (e) {
    const status =
      (e as { status?: number; statusCode?: number }).status ?? (e as { statusCode?: number }).statusCode;
    const message = (e as Error).message;
    return {
      ok: false,
      missing: status === 404 || status === 400 || /not found|does not exist/i.test(message),
      message,
    };
  }
}
