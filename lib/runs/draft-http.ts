import { invalid, pointer, type FieldProblem } from '../errors/problem';
import { httpHandler, json, readJson } from '../http/handler';
import { saveDraft } from '../pipelines/drafts';
import { missingSnapshots } from '../pipelines/http';
import { resolveCodeIncludes } from '../pipelines/code-include';
import { definitionHash, pipelinesContainer } from '../pipelines/store';
import { closest } from '../pipelines/suggest';
import { summary, validateDefinition } from '../pipelines/validate';
import type { StartRunRequest } from './contract';
import { startRun } from './start';

/**
 * POST /api/runs/drafts: run a definition without publishing it (`sluice run FILE.yaml`). The definition
 * is validated as a publish would (code must be uploaded snapshots), stored as a draft of its pipeline
 * (lib/pipelines/drafts.ts), and started like any run; the run records `version: -N` and the draft's
 * definition hash. Registered in functions/run-insights.ts.
 */

const FIELDS = ['definition', 'parameters', 'inputs', 'tags', 'forceRerun', 'continueOnStepFailure'];

export const startDraftRunHandler = httpHandler(async (req, ctx) => {
  const body = await readJson(req);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid([{ pointer: '', message: `the body is a JSON object with ${FIELDS.join(', ')}` }]);
  const b = body as Record<string, unknown>;
  const problems: FieldProblem[] = Object.keys(b)
    .filter((k) => !FIELDS.includes(k))
    .map((k) => {
      const c = closest(k, FIELDS);
      return {
        pointer: pointer([k]),
        message: `unknown field "${k}"${c ? `; did you mean "${c}"?` : ''} (allowed: ${FIELDS.join(', ')})`,
      };
    });
  if (b.definition === undefined)
    problems.push({
      pointer: '/definition',
      message: 'definition is required: the pipeline definition to run',
    });
  // `code: { path, include }` → the snapshot of the included files (lib/pipelines/code-include.ts).
  const code = await resolveCodeIncludes(b.definition, ['definition']);
  problems.push(...code.problems);
  const v =
    b.definition === undefined ? undefined : validateDefinition(code.value, { requireSnapshotRefs: true });
  if (v && !v.ok) problems.push(...v.errors.map((e) => ({ ...e, pointer: '/definition' + e.pointer })));
  if (problems.length) throw invalid(problems, summary(problems));
  const def = v!.definition!;
  const missing = await missingSnapshots(def);
  if (missing.length) {
    const moved = missing.map((e) => ({ ...e, pointer: '/definition' + e.pointer }));
    throw invalid(moved, summary(moved));
  }
  const { draft } = await saveDraft(await pipelinesContainer(), def, definitionHash(def));
  const request: StartRunRequest = {
    pipeline: def.name,
    ...(b.parameters !== undefined ? { parameters: b.parameters as Record<string, unknown> } : {}),
    ...(b.inputs !== undefined ? { inputs: b.inputs as Record<string, string> } : {}),
    ...(b.tags !== undefined ? { tags: b.tags as Record<string, string> } : {}),
    ...(b.forceRerun !== undefined ? { forceRerun: b.forceRerun as boolean } : {}),
    ...(b.continueOnStepFailure !== undefined
      ? { continueOnStepFailure: b.continueOnStepFailure as boolean }
      : {}),
  };
  const r = await startRun(request, { type: 'rest' }, { context: ctx, draft: draft.draft });
  const url = `${new URL(req.url).origin}/api/runs/${r.runId}`;
  return json(
    202,
    {
      runId: r.runId,
      status: r.status,
      statusUrl: url,
      created: r.created,
      pipeline: def.name,
      draft: draft.draft,
      definitionHash: draft.definitionHash,
    },
    { location: url },
  );
});
