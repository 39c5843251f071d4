import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { sluiceCli, step, waitForRun } from '../runs/helpers';

const tmp = mkdtempSync(join(os.tmpdir(), 'sluice-helper-'));
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ env: { SLUICE_ENV_CACHE_DIR: join(tmp, 'envs') } });
});
after(async () => {
  await sluice?.stop();
  rmSync(tmp, { recursive: true, force: true });
});
const cli = (...args: string[]) => sluiceCli(sluice)(...args);

// An unchanged azureml-style script (Run.get_context, run.log, input_datasets) next to the helper's API.
const SCRIPT = `
import base64
from azureml.core import Run
from sluice import run as sr

run = Run.get_context()
run.log("accuracy", 0.93)
run.log_list("loss", [0.9, 0.5, 0.25])
run.log_row("by_class", label=1, precision=0.8)
ds = run.input_datasets["data"]
text = open(ds.download()[0]).read()
try:
    ds.to_pandas_dataframe()
except ImportError as e:
    print("no pandas here:", e)
sr.log("n_param", sr.parameter("n"))
with open(sr.output("result"), "w") as f:
    f.write("%s|%s|%s" % (text.strip(), run.parent.tags["n"], run.parent.tags["sluice.run"] == sr.run_id()))
png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
open("dot.png", "wb").write(png)
run.log_image("dot", path="dot.png")
`;

test('a Python step reads inputs, outputs and parameters by name, and its azureml-style metrics and image reach the run', async () => {
  const dir = join(tmp, 'p');
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'src', 'step.py'), SCRIPT);
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    [
      'name: helper-aml',
      'parameters: { n: { type: integer, default: 7 } }',
      'steps:',
      '  make: { command: "echo hello > ${{outputs.o}}", outputs: { o: { type: file } } }',
      '  py:',
      '    command: python step.py ${{parameters.n}}',
      '    code: ./src',
      "    environment: { python: '3' }",
      "    inputs: { data: '${{steps.make.outputs.o}}' }",
      '    outputs: { result: { type: file } }',
    ].join('\n'),
  );
  await cli('publish', join(dir, 'pipeline.yaml'));
  const out = await cli('run', 'helper-aml', '--wait');
  const run = await waitForRun(sluice, /run (r-\w+) started/.exec(out.stdout)![1]!);
  assert.equal(run.status, 'Completed', JSON.stringify(step(run, 'py').error));
  const py = step(run, 'py');
  const metric = (n: string) => py.metrics!.filter((m) => m.name === n).map((m) => m.value);
  assert.deepEqual(metric('accuracy'), [0.93]);
  assert.deepEqual(metric('loss'), [0.9, 0.5, 0.25]);
  assert.deepEqual(metric('by_class.precision'), [0.8]);
  assert.deepEqual(metric('n_param'), [7]);
  const result = await (await sluice.api(`/api/artifacts/${py.outputs!.result!.hash}`)).text();
  assert.equal(result, 'hello|7|True');
  const images = (py as unknown as { images?: Array<{ name: string; hash: string }> }).images;
  assert.equal(images?.[0]?.name, 'dot');
  const png = await sluice.api(`/api/artifacts/${images![0]!.hash}`);
  assert.equal(png.status, 200);
  assert.equal(
    Buffer.from(await png.arrayBuffer())
      .subarray(1, 4)
      .toString(),
    'PNG',
  );
  const shown = await cli('runs', 'show', run.runId);
  assert.match(shown.stdout, /py .*loss=0\.2500.*n_param=7/);
  assert.match(
    (await cli('runs', 'logs', run.runId, 'py')).stdout,
    /no pandas here: reading tables needs pandas/,
  );
});
