// Batch scoring: reads customer rows (CSV), applies a logistic model, writes `id,score,churn` rows.
// Plain Node, no dependencies. Reports metrics as JSON lines to $SLUICE_METRICS when set.
//
//   node score.js --data CSV|DIR --model JSON --out FILE [--threshold 0.5]
//   node score.js --list FILE --model JSON --out FILE [--threshold 0.5] [--no-header]
//
// --list names the CSVs in a file, one path a line (a parallelRun step's ${{minibatch}}). --no-header leaves
// out the `id,score,churn` line, so that the batches' outputs concatenate into one CSV body (appendRow).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { args, parseCsv, csvFiles, loadModel, featureColumns } = require('./csv-model');

const USAGE =
  'usage: node score.js --data CSV|DIR --model JSON --out FILE [--threshold 0.5]\n' +
  '       node score.js --list FILE --model JSON --out FILE [--threshold 0.5] [--no-header]';

const a = args(process.argv.slice(2));
const missing = [
  a.data || a.list ? undefined : 'data',
  a.model ? undefined : 'model',
  a.out ? undefined : 'out',
].find(Boolean);
if (missing) {
  console.error(`${USAGE} (missing --${missing})`);
  process.exit(2);
}
const threshold = a.threshold === undefined ? 0.5 : Number(a.threshold);
const model = loadModel(a.model);
const files =
  typeof a.list === 'string'
    ? fs
        .readFileSync(a.list, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .flatMap(csvFiles)
    : csvFiles(a.data);
const out = a['no-header'] ? [] : ['id,score,churn'];
let flagged = 0;
let scored = 0;
for (const file of files) {
  const { header, rows } = parseCsv(fs.readFileSync(file, 'utf8'));
  const idCol = header.findIndex((h) => h === 'id' || h === 'customer' || h === 'customer_id');
  const cols = featureColumns(header, model, file);
  let fileFlagged = 0;
  for (const [n, row] of rows.entries()) {
    let z = model.bias;
    cols.forEach((c, i) => {
      z += model.weights[i] * ((Number(row[c]) - model.mean[i]) / model.std[i]);
    });
    const score = 1 / (1 + Math.exp(-z));
    const churn = score >= threshold;
    if (churn) fileFlagged++;
    out.push(
      `${idCol >= 0 ? row[idCol] : `${path.basename(file)}:${n + 1}`},${score.toFixed(4)},${churn ? 1 : 0}`,
    );
  }
  if (a.list) console.log(`${path.basename(file)}: ${rows.length} row(s), ${fileFlagged} flagged`);
  flagged += fileFlagged;
  scored += rows.length;
}
fs.writeFileSync(a.out, out.map((l) => `${l}\n`).join(''));
console.log(`scored ${scored} row(s); ${flagged} at or above ${threshold}`);
if (process.env.SLUICE_METRICS)
  fs.appendFileSync(
    process.env.SLUICE_METRICS,
    JSON.stringify({ name: 'rows', value: scored }) +
      '\n' +
      JSON.stringify({ name: 'flagged', value: flagged }) +
      '\n',
  );
