import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestTrial, planTrials, substituteTrial } from '../../../lib/runs/automl-plan';

test('choice dimensions are walked as a grid: as many trials as combinations cover each once', () => {
  const trials = planTrials(
    { lr: { type: 'choice', values: [0.1, 0.01] }, opt: { type: 'choice', values: ['adam', 'sgd', 'rms'] } },
    6,
  );
  const seen = new Set(trials.map((t) => `${t.lr}/${t.opt}`));
  assert.equal(seen.size, 6);
  assert.deepEqual(trials[0], { lr: 0.1, opt: 'adam' });
});

test('continuous dimensions stay in range and the plan is the same every time', () => {
  const space = {
    a: { type: 'uniform' as const, min: -1, max: 1 },
    b: { type: 'logUniform' as const, min: 1e-4, max: 1e-1 },
    n: { type: 'int' as const, min: 2, max: 5 },
  };
  const trials = planTrials(space, 50);
  assert.deepEqual(planTrials(space, 50), trials);
  for (const t of trials) {
    assert.ok((t.a as number) >= -1 && (t.a as number) <= 1);
    assert.ok((t.b as number) >= 1e-4 && (t.b as number) <= 1e-1);
    assert.ok(Number.isInteger(t.n) && (t.n as number) >= 2 && (t.n as number) <= 5);
  }
  assert.equal(new Set(trials.map((t) => t.n)).size, 4, 'every integer is tried');
});

test('the best trial is the best last value of the metric; trials without it are ignored', () => {
  const m = (v: number) => [
    { name: 'acc', value: 0 },
    { name: 'acc', value: v },
  ];
  assert.deepEqual(bestTrial([m(0.7), undefined, m(0.9), [{ name: 'loss', value: 9 }]], 'acc', 'maximize'), {
    index: 2,
    value: 0.9,
  });
  assert.deepEqual(bestTrial([m(0.7), m(0.9)], 'acc', 'minimize'), { index: 0, value: 0.7 });
  assert.equal(bestTrial([undefined, [{ name: 'loss', value: 1 }]], 'acc', 'maximize'), undefined);
});

test('trial placeholders are substituted, quoted for the shell, and unknown ones left alone', () => {
  assert.equal(
    substituteTrial('train --lr ${{trial.lr}} --m ${{trial.m}} ${{ trial.x }}', { lr: 0.1, m: 'a b' }, true),
    "train --lr 0.1 --m 'a b' ${{ trial.x }}",
  );
  assert.equal(substituteTrial('--m=${{trial.m}}', { m: 'a b' }, false), '--m=a b', 'args and env: as is');
});
