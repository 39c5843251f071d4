// Writes every customer CSV of --data to --out (same relative paths) with the model on a first
// `# model: {…}` line, so that each file can be scored on its own: a parallelRun mini-batch job receives
// only its batch's files (see parallel.yaml). Checks every file against the model first, so a missing
// column fails here, once, naming all such files, instead of in each mini-batch.
//   node attach-model.js --data CSV|DIR --model JSON --out DIR
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { args, parseCsv, csvFiles, loadModel } = require('./csv-model');

const a = args(process.argv.slice(2));
for (const k of ['data', 'model', 'out'])
  if (typeof a[k] !== 'string') {
    console.error(`usage: node attach-model.js --data CSV|DIR --model JSON --out DIR (missing --${k})`);
    process.exit(2);
  }
const model = loadModel(a.model);
const raw = JSON.parse(fs.readFileSync(a.model, 'utf8'));
const files = csvFiles(a.data);
if (files.length === 0) throw new Error(`${a.data}: no .csv files to score`);

const problems = [];
for (const file of files) {
  const { header } = parseCsv(fs.readFileSync(file, 'utf8'));
  const missing = model.features.filter((f) => !header.includes(f));
  if (missing.length) problems.push(`${file}: missing ${missing.join(', ')}`);
}
if (problems.length)
  throw new Error(
    `the model needs the columns ${model.features.join(', ')}; ${problems.length} file(s) lack some:\n  ` +
      problems.join('\n  '),
  );

const base = fs.statSync(a.data).isFile() ? path.dirname(a.data) : a.data;
const line = `# model: ${JSON.stringify(raw)}\n`;
for (const file of files) {
  const target = path.join(a.out, path.relative(base, file));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, line + fs.readFileSync(file, 'utf8'));
}
console.log(`attached the model (${model.features.join(', ')}) to ${files.length} file(s)`);
