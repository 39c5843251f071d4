import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDefinition } from '../../../lib/pipelines/validate';
import { example, expectProblem, problemsOf, problemsOfText } from './helpers';

describe('a definition is checked rule by rule, each problem with its pointer', () => {
  test('the example definition is valid and gets defaults filled in', () => {
    const r = validateDefinition(example());
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.equal(r.definition!.steps.prep!.kind, 'command');
    assert.equal(r.definition!.steps.prep!.reuse, true);
    assert.equal(r.definition!.steps.prep!.retries, 0);
  });

  test('unknown keys are named with a "did you mean"', () => {
    const d = example();
    d.steps.train.reuze = true;
    d.setings = {};
    d.steps.prep.outputs.clean.tpye = 'file';
    const p = problemsOf(d);
    expectProblem(p, '/steps/train/reuze', /Unknown field "reuze"\. Did you mean "reuse"\?/);
    expectProblem(p, '/setings', /Did you mean "settings"\?/);
    expectProblem(p, '/steps/prep/outputs/clean/tpye', /Did you mean "type"\?/);
  });

  test('bad pipeline, step, parameter and output names are rejected with the rule', () => {
    const d = example();
    d.name = 'Churn_Train';
    d.steps['bad step'] = { command: 'x' };
    d.parameters['1x'] = { type: 'string', default: '' };
    d.steps.prep.outputs['out put'] = { type: 'file' };
    const p = problemsOf(d);
    expectProblem(p, '/name', /lowercase letters, digits and "-", 3–63 characters/);
    expectProblem(p, '/steps/bad step', /step name "bad step" is not valid/);
    expectProblem(p, '/parameters/1x', /parameter name "1x" is not valid/);
    expectProblem(p, '/steps/prep/outputs/out put', /output name "out put" is not valid/);
  });

  test('duplicate step names in YAML are reported with both lines', () => {
    const p = problemsOfText('name: abc\nsteps:\n  a:\n    command: one\n  a:\n    command: two\n');
    expectProblem(p, '/steps/a', /step "a" is defined twice \(line 3 and line 5\)/);
  });

  test('references to missing steps, outputs, inputs and parameters name the ones that exist', () => {
    const d = example();
    d.steps.train.inputs.data = '${{steps.prepp.outputs.clean}}';
    d.steps.train.inputs.other = '${{steps.prep.outputs.cleaned}}';
    d.steps.prep.inputs.raw = '${{pipeline.inputs.rwa}}';
    d.steps.train.after = ['prepare'];
    d.steps.train.command += ' ${{parameters.epoch}}';
    const p = problemsOf(d);
    expectProblem(
      p,
      '/steps/train/inputs/data',
      /no step "prepp"\. Did you mean "prep"\? Steps: "prep" and "train"/,
    );
    expectProblem(
      p,
      '/steps/train/inputs/other',
      /Step "prep" has no output "cleaned"\. Did you mean "clean"\? Its outputs: "clean"/,
    );
    expectProblem(p, '/steps/prep/inputs/raw', /no pipeline input "rwa"\. Did you mean "raw"\?/);
    expectProblem(p, '/steps/train/after/0', /no step "prepare"/);
    expectProblem(p, '/steps/train/command', /names no parameter\. Did you mean "epochs"\?/);
  });

  test('cycles are spelled out in data-flow order', () => {
    const d = {
      name: 'cyc',
      steps: {
        a: {
          command: 'x ${{inputs.i}}',
          inputs: { i: '${{steps.c.outputs.o}}' },
          outputs: { o: { type: 'file' } },
        },
        b: {
          command: 'x ${{inputs.i}}',
          inputs: { i: '${{steps.a.outputs.o}}' },
          outputs: { o: { type: 'file' } },
        },
        c: { command: 'x', after: ['b'], outputs: { o: { type: 'file' } } },
      },
    };
    const p = problemsOf(d);
    const cycle = p.find((x) => /cycle/.test(x.message));
    assert.ok(cycle, JSON.stringify(p));
    assert.match(cycle.message, /a → b → c → a/);
    assert.match(cycle.message, /"c" runs after "b"/);
    assert.equal(cycle.pointer, '/steps/a/inputs/i');
  });

  test('a step that waits for itself is a cycle of one', () => {
    const p = problemsOf({ name: 'abc', steps: { a: { command: 'x', after: ['a'] } } });
    expectProblem(p, '/steps/a/after/0', /cannot run after itself/);
  });

  test('a default of the wrong type says which type and how to fix it', () => {
    const d = example();
    d.parameters.epochs.default = '3';
    d.parameters.flag = { type: 'boolean', default: 'yes' };
    d.parameters.mode = { type: 'enum', values: ['a', 'b'], default: 'c' };
    d.parameters.kind = { type: 'int', default: 1 };
    const p = problemsOf(d);
    expectProblem(
      p,
      '/parameters/epochs/default',
      /must be an integer because its type is integer; got string "3"\. Remove the quotes/,
    );
    expectProblem(p, '/parameters/flag/default', /must be true or false/);
    expectProblem(p, '/parameters/mode/default', /not one of the values "a" and "b"/);
    expectProblem(p, '/parameters/kind/type', /Unknown type string "int"\. Did you mean "integer"\?/);
  });

  test('an output that two steps write (the same dataset) is reported at the second writer', () => {
    const d = example();
    d.steps.prep.outputs.clean.dataset = 'churn-clean';
    d.steps.train.outputs.model.dataset = 'churn-clean';
    const p = problemsOf(d);
    expectProblem(
      p,
      '/steps/train/outputs/model/dataset',
      /Dataset "churn-clean" is written by steps "prep" and "train"/,
    );
  });

  test('placeholders that name nothing are explained', () => {
    const d = example();
    d.steps.prep.command = 'run ${{params.region}} ${{outputs.cleaned}} ${{inputs.data}} ${{ unclosed';
    d.steps.prep.env = { A: '${{steps.train.outputs.model}}' };
    const p = problemsOf(d);
    expectProblem(p, '/steps/prep/command', /\$\{\{params\.region\}\} names nothing/);
    expectProblem(p, '/steps/prep/command', /names no output of this step\. Did you mean "clean"\?/);
    expectProblem(p, '/steps/prep/command', /names no input of this step/);
    expectProblem(p, '/steps/prep/command', /never closed/);
    expectProblem(p, '/steps/prep/env/A', /declare it as an input of this step/);
  });

  test('a pipeline input used directly in a command is taught to be bound first', () => {
    const d = example();
    d.steps.prep.command = 'run ${{inputs.raw}} ${{pipeline.inputs.raw}} ${{outputs.clean}}';
    const p = problemsOf(d);
    expectProblem(p, '/steps/prep/command', /bind it as a step input/);
  });

  test('malformed YAML reports line and column', () => {
    const p = problemsOfText('name: abc\nsteps:\n  a: [unclosed\n  b: 1\n');
    assert.equal(p[0]!.pointer, '');
    assert.match(p[0]!.message, /YAML syntax error at line \d+, column \d+/);
  });

  test('every problem is listed at once', () => {
    const d = example();
    d.name = 'X';
    d.steps.train.reuze = 1;
    d.steps.train.after = ['nope'];
    d.parameters.epochs.default = 'three';
    assert.ok(problemsOf(d).length >= 4);
  });

  test('the server form requires code to be a snapshot reference', () => {
    const d = example();
    d.steps.prep.code = './src';
    const r = validateDefinition(d, { requireSnapshotRefs: true });
    assert.equal(r.ok, false);
    assert.match(r.errors.find((e) => e.pointer === '/steps/prep/code')!.message, /snapshot reference/);
    d.steps.prep.code = 'snapshot:sha256:' + 'a'.repeat(64);
    assert.equal(validateDefinition(d, { requireSnapshotRefs: true }).ok, true);
  });

  test('step kinds form a discriminated union with a did-you-mean on the kind', () => {
    const p = problemsOf({
      name: 'abc',
      steps: { t: { kind: 'dataTransfr', source: 'x@1', destination: 'y' } },
    });
    expectProblem(p, '/steps/t/kind', /Did you mean "dataTransfer"\?/);
    const ok = validateDefinition({
      name: 'abc',
      steps: {
        copy: { kind: 'dataTransfer', source: 'raw@latest', destination: 'raw-copy' },
        score: {
          kind: 'parallelRun',
          input: '${{steps.copy.outputs.data}}',
          command: 'node score.js ${{minibatch}}',
        },
      },
    });
    assert.equal(ok.ok, true, JSON.stringify(ok.errors));
  });

  test('a parallelRun step takes side inputs besides its split input; "input" is reserved for the split', () => {
    const def = (inputs: Record<string, string>, command: string) => ({
      name: 'side-inputs',
      steps: {
        train: { command: 'node t.js ${{outputs.model}}', outputs: { model: { type: 'file' } } },
        score: {
          kind: 'parallelRun',
          input: 'customers@latest',
          inputs,
          command,
        },
      },
    });
    const ok = validateDefinition(
      def({ model: '${{steps.train.outputs.model}}' }, 'node s.js ${{minibatch}} ${{inputs.model}}'),
    );
    assert.equal(ok.ok, true, JSON.stringify(ok.errors));
    const p = problemsOf(
      def(
        { input: '${{steps.train.outputs.model}}', model: '${{steps.trian.outputs.model}}' },
        'node s.js ${{minibatch}} ${{inputs.modle}}',
      ),
    );
    expectProblem(p, '/steps/score/inputs/input', /"input" is taken by the split input/);
    expectProblem(p, '/steps/score/inputs/model', /trian/);
    expectProblem(p, '/steps/score/command', /\$\{\{inputs\.modle\}\} names no input of this step/);
  });

  test('messages name the rule for compute names and missing enum fields', () => {
    const d = example();
    d.steps.train.compute = 'gpu pool';
    d.steps.prep.outputs.clean = {};
    const p = problemsOf(d);
    expectProblem(p, '/steps/train/compute', /a compute target name is a letter or "_"/);
    expectProblem(
      p,
      '/steps/prep/outputs/clean/type',
      /"type" is required; use one of "file" and "directory"/,
    );
  });

  test('a timeout must be a duration', () => {
    const d = example();
    d.steps.train.timeout = '30 minutes';
    expectProblem(problemsOf(d), '/steps/train/timeout', /duration such as 90s, 30m, 2h/);
  });

  test('a huge cyclic pipeline is bounded: the step limit and a shortened cycle, never a crash', () => {
    const steps: Record<string, unknown> = {};
    const n = 6000;
    for (let i = 0; i < n; i++)
      steps['s' + i] = {
        command: 'x ${{inputs.a}}',
        inputs: { a: `\${{steps.s${(i + n - 1) % n}.outputs.o}}` },
        outputs: { o: { type: 'file' } },
      };
    const p = problemsOf({ name: 'big', steps });
    expectProblem(p, '/steps', /at most 5000 steps; this one has 6000/);
    assert.ok(
      p.some((x) => /s0 → s1 → .* → … \(6000 steps\) → s0/.test(x.message)),
      JSON.stringify(p).slice(0, 500),
    );
  });
});
