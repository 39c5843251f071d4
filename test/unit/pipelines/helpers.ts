import assert from 'node:assert/strict';
import { validateDefinition, validateDefinitionText } from '../../../lib/pipelines/validate';
import type { FieldProblem } from '../../../lib/errors/problem';

/** A valid definition to break one thing at a time. */
export function example(): Record<string, any> {
  return {
    name: 'churn-train',
    parameters: { epochs: { type: 'integer', default: 3 }, region: { type: 'string', default: 'eu' } },
    inputs: { raw: { type: 'dataset', default: 'churn-raw@latest' } },
    steps: {
      prep: {
        command: 'node prep.js --in ${{inputs.raw}} --out ${{outputs.clean}} --region ${{parameters.region}}',
        inputs: { raw: '${{pipeline.inputs.raw}}' },
        outputs: { clean: { type: 'directory' } },
      },
      train: {
        command:
          'node train.js --data ${{inputs.data}} --model ${{outputs.model}} --epochs ${{parameters.epochs}}',
        inputs: { data: '${{steps.prep.outputs.clean}}' },
        outputs: { model: { type: 'file' } },
        after: ['prep'],
      },
    },
  };
}

/** The problems of a definition that must be invalid. */
export function problemsOf(def: unknown): FieldProblem[] {
  const r = validateDefinition(def);
  assert.equal(r.ok, false, 'expected the definition to be invalid');
  return r.errors;
}

export function problemsOfText(text: string): FieldProblem[] {
  const r = validateDefinitionText(text);
  assert.equal(r.ok, false, 'expected the text to be invalid');
  return r.errors;
}

/** The one problem at `pointer`, asserting its message matches. */
export function expectProblem(problems: FieldProblem[], pointer: string, message: RegExp): void {
  const at = problems.filter((p) => p.pointer === pointer);
  assert.ok(at.length > 0, `no problem at ${pointer}; got ${JSON.stringify(problems, null, 1)}`);
  assert.ok(
    at.some((p) => message.test(p.message)),
    `problem at ${pointer} does not match ${message}: ${JSON.stringify(at)}`,
  );
}
