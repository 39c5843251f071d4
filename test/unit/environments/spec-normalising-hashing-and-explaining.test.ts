import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EnvironmentFieldSchema,
  normalizeSpec,
  packageChanges,
  satisfies,
  specHash,
} from '../../../lib/environments/spec';
import { environmentChanges } from '../../../lib/environments/explain';
import { explainBuildFailure } from '../../../lib/environments/failure';
import { specFromFileText } from '../../../lib/environments/file';
import { poolCannotBuild } from '../../../lib/environments/agents';
import { failureDecision } from '../../../lib/runs/failure-policy';
import { failureFor } from '../../../lib/compute/failures';

test('version constraints read as pip reads them', () => {
  assert.ok(satisfies('3.11.7', '3.11'));
  assert.ok(!satisfies('3.12.1', '3.11'));
  assert.ok(satisfies('3.11.7', '>=3.10,<3.13'));
  assert.ok(!satisfies('3.13.0', '>=3.10,<3.13'));
  assert.ok(satisfies('3.12.0', '~=3.11'));
  assert.ok(!satisfies('4.0.0', '~=3.11'));
  assert.ok(!satisfies('3.12.0', '!=3.12'));
  assert.ok(satisfies('v20.20.2', '>=20'));
  assert.ok(satisfies('v20.20.2', '20'));
  assert.ok(satisfies('3.11.7', '<=3.11'));
});

test('a spec hashes the same whatever the key order, and differently when a pin changes', () => {
  const a = normalizeSpec({ requirements: ['pandas==1.5.3'], python: '3.11' }).spec;
  const b = normalizeSpec({ python: '3.11', requirements: ['pandas==1.5.3'] }).spec;
  const c = normalizeSpec({ python: '3.11', requirements: ['pandas==2.2.3'] }).spec;
  assert.equal(specHash(a), specHash(b));
  assert.notEqual(specHash(a), specHash(c));
});

test('a conda spec gives its python and pip parts, and names its conda-only packages as a problem', () => {
  const r = normalizeSpec({
    conda: { dependencies: ['python=3.11', 'pip', 'numpy', { pip: ['pandas==2.2.3'] }] },
  });
  assert.deepEqual(r.spec, { python: '3.11', requirements: ['pandas==2.2.3'] });
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!.message, /conda packages cannot be installed.*\(numpy\)/);
  assert.deepEqual(r.problems[0]!.path, ['conda', 'dependencies']);
  assert.deepEqual(normalizeSpec({ conda: { dependencies: ['python>=3.10', { pip: ['x'] }] } }).spec, {
    python: '>=3.10',
    requirements: ['x'],
  });
});

test('the environment field takes a spec or name@version, and refuses pip options as requirements', () => {
  assert.ok(EnvironmentFieldSchema.safeParse('churn-env@2').success);
  assert.ok(EnvironmentFieldSchema.safeParse('churn-env@latest').success);
  assert.ok(!EnvironmentFieldSchema.safeParse('churn-env').success);
  assert.ok(!EnvironmentFieldSchema.safeParse({ requirements: ['--index-url http://x'] }).success);
  assert.ok(!EnvironmentFieldSchema.safeParse({ python: 'latest' }).success);
  assert.ok(!EnvironmentFieldSchema.safeParse({ pythn: '3.11' }).success);
  assert.equal(normalizeSpec({}).problems.length, 1, 'an empty spec says what it needs');
});

test('explain names package changes one by one', () => {
  assert.deepEqual(packageChanges({ pandas: '==1.5.3', numpy: '<2' }, { pandas: '==2.2.3', sklearn: '' }), [
    'numpy <2 removed',
    'pandas 1.5.3 → 2.2.3',
    'sklearn (any version) added',
  ]);
  const before = { hash: 'sha256:aa', python: '3.11', packages: { pandas: '==1.5.3' } };
  const after = { hash: 'sha256:bb', python: '3.12', packages: { pandas: '==2.2.3' } };
  assert.deepEqual(
    environmentChanges(before, after).map((c) => c.message),
    ['environment: python 3.11 → 3.12', 'environment: pandas 1.5.3 → 2.2.3'],
  );
  assert.deepEqual(
    environmentChanges(undefined, after).map((c) => c.message),
    ['environment: added (python 3.12, pandas==2.2.3)'],
  );
  assert.deepEqual(
    environmentChanges({ hash: 'sha256:aa' }, { hash: 'sha256:bb' }).map((c) => c.component),
    ['packages'],
    'an index change is still named',
  );
});

test('a failed build names the package and the reason, from uv or from pip', () => {
  const uv = explainBuildFailure(
    [
      'Using Python 3.11.7 environment at: /tmp/x',
      '  × No solution found when resolving dependencies:',
      '  ╰─▶ Because there is no version of pandas==9.9.9 and you require pandas==9.9.9, we can conclude that your requirements are unsatisfiable.',
    ],
    'uv pip exited with 1',
  );
  assert.equal(uv.package, 'pandas==9.9.9');
  assert.match(uv.message, /No solution found.*there is no version of pandas==9\.9\.9/);
  const pip = explainBuildFailure(
    [
      'Looking in links: /w',
      'ERROR: Could not find a version that satisfies the requirement pandas==9.9.9 (from versions: 1.5.3)',
      'ERROR: No matching distribution found for pandas==9.9.9',
    ],
    'pip exited with 1',
  );
  assert.equal(pip.package, 'pandas==9.9.9');
  assert.match(pip.message, /from versions: 1\.5\.3/);
});

test('a spec file may be a Sluice spec, a conda environment.yml or a requirements.txt', () => {
  assert.deepEqual(specFromFileText('env.yaml', 'python: "3.11"\nrequirements: [six]\n'), {
    python: '3.11',
    requirements: ['six'],
  });
  assert.deepEqual(specFromFileText('environment.yml', 'dependencies: [python=3.11, {pip: [six]}]'), {
    conda: { dependencies: ['python=3.11', { pip: ['six'] }] },
  });
  assert.deepEqual(specFromFileText('requirements.txt', '# pins\nsix==1.16.0\n\npandas<2  # old\n'), {
    requirements: ['six==1.16.0', 'pandas<2'],
  });
  assert.throws(() => specFromFileText('requirements.txt', '-e .\n'), /pip options/);
});

test('dispatch refuses a spec no reporting agent can build, and trusts a pool with no reports yet', () => {
  const report = (pythons: string[], node: string | null = 'v20.1.0') => ({
    agentId: 'a',
    pool: 'p',
    platform: 'linux-x64',
    pythons,
    node,
    uv: null,
    at: '',
  });
  const spec = normalizeSpec({ python: '3.12', requirements: ['x'] }).spec;
  assert.equal(poolCannotBuild([], spec, 'p'), undefined);
  assert.match(
    poolCannotBuild([report(['3.11.7'])], spec, 'p')!,
    /Python 3\.11\.7, none of which satisfies "3\.12"/,
  );
  assert.equal(poolCannotBuild([report(['3.11.7']), report(['3.12.1'])], spec, 'p'), undefined);
  assert.match(poolCannotBuild([report([], null)], normalizeSpec({ node: '20' }).spec, 'p')!, /no node/);
});

test('normalising is idempotent and hashing is stable under key order (property)', () => {
  const req = fc.constantFrom('pandas==1.5.3', 'numpy<2', 'six', 'scikit-learn>=1.3');
  fc.assert(
    fc.property(
      fc.uniqueArray(req, { minLength: 1 }),
      fc.constantFrom('3.11', '>=3.10', undefined),
      (reqs, py) => {
        const spec = { ...(py ? { python: py } : {}), requirements: reqs };
        const once = normalizeSpec(spec).spec;
        assert.deepEqual(normalizeSpec(once as never).spec, once);
        const reordered = Object.fromEntries(Object.entries(spec).reverse());
        assert.equal(specHash(normalizeSpec(reordered as never).spec), specHash(once));
      },
    ),
  );
});

test('an environment failure is not retried and fails the step', () => {
  assert.deepEqual(failureDecision('environment'), { retryable: false, status: 'Failed' });
  assert.deepEqual(failureFor({ kind: 'environment', message: 'm' }), { code: 'environment', message: 'm' });
});
