/**
 * What the validator's rule modules share. The rules run on the raw document, before or without a
 * successful parse, so they read it through the shape helpers here, which accept any value and never
 * throw. Each rule reports through `RuleContext.add`; the order of the calls is the order of the problems.
 */

export type Obj = Record<string, unknown>;
/** A JSON pointer as its segments; `pointer()` (lib/errors/problem.ts) spells it. */
export type Path = Array<string | number>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const entries = (v: unknown): Array<[string, unknown]> => (isObj(v) ? Object.entries(v) : []);
export const keys = (v: unknown): string[] => (isObj(v) ? Object.keys(v) : []);

/** The value at `path`, or undefined when something on the way is not an object. */
export function get(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

export interface ValidateOptions {
  /**
   * Require `code` to be a snapshot reference (`snapshot:sha256:<64 hex>`), as the server does. The CLI
   * validates files before packing, where `code` is still a directory.
   * @default false
   */
  requireSnapshotRefs?: boolean;
}

/** One validation pass over one document: what it declares, and where its problems go. */
export interface RuleContext {
  root: Obj;
  opts: ValidateOptions;
  /** Names declared under `parameters`, `inputs` and `steps`, whatever their values. */
  params: string[];
  pipelineInputs: string[];
  stepNames: string[];
  add: (path: Path, message: string) => void;
}
