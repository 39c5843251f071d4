'use strict';
// One sweep trial: train.js at this trial's epochs and learning rate, evaluate.js on the held-out split
// (accuracy, precision, recall, auc), then `log_loss` on the held-out split, the metric the sweep
// minimises. Why not AUC: AUC only ranks customers, and every trial ranks them alike (AUC within 0.001
// of each other), so it would crown an undertrained model whose probabilities are off; scoring flags
// customers by probability (score ≥ threshold), and log loss is what rewards probabilities that are right.
// Last, the standardisation from stats.json goes into the model (`mean`, `std`), so the model scores raw
// customer rows on its own: examples/batch-scoring/src/score.js applies (x - mean) / std.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { args, required, readCsv, metric, sigmoid } = require('./lib');

const a = args();
const data = required(a, 'data');
const modelFile = required(a, 'model');
const reportFile = required(a, 'report');

// The scripts print their own errors; pass their exit code on rather than a stack trace of ours.
function node(script, argv) {
  try {
    execFileSync(process.execPath, [path.join(__dirname, script), ...argv], { stdio: 'inherit' });
  } catch (e) {
    process.exit(typeof e.status === 'number' ? e.status : 1);
  }
}

node('train.js', [
  '--data',
  data,
  '--epochs',
  required(a, 'epochs'),
  '--lr',
  required(a, 'lr'),
  '--model',
  modelFile,
]);
// A model that learned nothing (AUC ≤ 0.6) fails its trial here; the sweep tolerates it and the others compete.
node('evaluate.js', ['--data', data, '--model', modelFile, '--report', reportFile]);

const model = JSON.parse(fs.readFileSync(modelFile, 'utf8'));
const { cols, rows } = readCsv(path.join(data, 'test.csv'));
const k = cols.length - 1;
let loss = 0;
for (const r of rows) {
  let z = model.bias;
  for (let j = 0; j < k; j++) z += model.weights[j] * r[j];
  const p = sigmoid(z);
  loss -= r[k] * Math.log(p + 1e-12) + (1 - r[k]) * Math.log(1 - p + 1e-12);
}
loss /= rows.length;
const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
fs.writeFileSync(reportFile, JSON.stringify({ ...report, log_loss: loss }, null, 2) + '\n');
metric('log_loss', loss);

const stats = JSON.parse(fs.readFileSync(path.join(data, 'stats.json'), 'utf8'));
if (JSON.stringify(stats.features) !== JSON.stringify(model.features))
  throw new Error(`stats.json features ${stats.features} differ from the model's ${model.features}`);
fs.writeFileSync(modelFile, JSON.stringify({ ...model, mean: stats.mean, std: stats.std }, null, 2) + '\n');
console.log(
  `epochs ${model.epochs}, learning rate ${model.learningRate}: held-out log loss ${loss.toFixed(4)}, AUC ${report.auc.toFixed(4)}`,
);
