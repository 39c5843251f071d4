import { resolve } from 'node:path';
import type { ApiClient } from '../api-client';
import { packFile, PublishFailed } from './publish';

/**
 * `sluice run FILE.yaml`: the edit-run loop. The file is validated and its code uploaded as a publish
 * would, then POST /api/runs/drafts runs it as a draft of its pipeline: no version is published, and
 * steps whose cache keys are unchanged are Reused from any earlier run, published or draft.
 */

export function isDefinitionFile(arg: string): boolean {
  return /\.(ya?ml|json)$/i.test(arg);
}

export interface PackedDraft {
  name: string;
  definition: Record<string, unknown>;
  /** Parameter name → declared type, to type each --param as a published run would. */
  types: Record<string, string>;
}

/** The packed definition, or null when the file has problems (already printed as file:line:col). */
export async function packDraft(
  file: string,
  client: ApiClient,
  version: number | undefined,
): Promise<PackedDraft | null> {
  if (version !== undefined) throw new Error('--version applies to published pipelines, not to a file');
  try {
    const { definition } = await packFile(resolve(file), client);
    const params = (definition.parameters ?? {}) as Record<string, { type: string }>;
    return {
      name: String(definition.name),
      definition,
      types: Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.type])),
    };
  } catch (e) {
    if (e instanceof PublishFailed) return null;
    throw e;
  }
}
