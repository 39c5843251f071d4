'use strict';
// Scores the held-out split: accuracy, precision, recall at 0.5, and ROC AUC (rank statistic).
const fs = require('node:fs');
const path = require('node:path');
const { args, required, readCsv, metric, sigmoid } = require('./lib');

const a = args();
const dir = required(a, 'data');
const model = JSON.parse(fs.readFileSync(required(a, 'model'), 'utf8'));
const reportFile = required(a, 'report');

const { cols, rows } = readCsv(path.join(dir, 'test.csv'));
const k = cols.length - 1;
const scored = rows.map((r) => {
  let z = model.bias;
  for (let j = 0; j < k; j++) z += model.weights[j] * r[j];
  return { p: sigmoid(z), y: r[k] };
});

let tp = 0,
  fp = 0,
  tn = 0,
  fn = 0;
for (const { p, y } of scored) {
  if (p >= 0.5) y ? tp++ : fp++;
  else y ? fn++ : tn++;
}
// AUC = P(score of a random positive > score of a random negative), ties counted half.
const sorted = [...scored].sort((x, y) => x.p - y.p);
let rankSum = 0;
for (let i = 0; i < sorted.length;) {
  let j = i;
  while (j < sorted.length && sorted[j].p === sorted[i].p) j++;
  const avgRank = (i + 1 + j) / 2;
  for (let t = i; t < j; t++) if (sorted[t].y === 1) rankSum += avgRank;
  i = j;
}
const pos = tp + fn;
const neg = tn + fp;
const auc = pos && neg ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : NaN;
const report = {
  rows: scored.length,
  accuracy: (tp + tn) / scored.length,
  precision: tp + fp ? tp / (tp + fp) : 0,
  recall: pos ? tp / pos : 0,
  auc,
  confusion: { tp, fp, tn, fn },
};
for (const m of ['accuracy', 'precision', 'recall', 'auc']) metric(m, report[m]);
fs.writeFileSync(reportFile, JSON.stringify(report, null, 2) + '\n');
console.log(
  `accuracy ${report.accuracy.toFixed(3)}  AUC ${auc.toFixed(3)}  on ${scored.length} held-out customers`,
);
if (!(auc > 0.6)) {
  console.error('AUC is below 0.6: the model learned nothing useful; check the data and the learning rate');
  process.exit(2);
}
