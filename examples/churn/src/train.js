'use strict';
// Logistic regression by full-batch gradient descent with L2 regularisation. Writes the weights to
// --model as JSON and reports the training loss per epoch as metrics.
const fs = require('node:fs');
const path = require('node:path');
const { args, required, readCsv, metric, sigmoid } = require('./lib');

const a = args();
const dir = required(a, 'data');
const epochs = Number(required(a, 'epochs'));
const lr = Number(required(a, 'lr'));
const modelFile = required(a, 'model');
const l2 = 1e-3;

const { cols, rows } = readCsv(path.join(dir, 'train.csv'));
const k = cols.length - 1;
let w = new Array(k).fill(0);
let b = 0;
const every = Math.max(1, Math.floor(epochs / 20));
let loss = 0;
for (let e = 1; e <= epochs; e++) {
  const gw = new Array(k).fill(0);
  let gb = 0;
  loss = 0;
  for (const r of rows) {
    let z = b;
    for (let j = 0; j < k; j++) z += w[j] * r[j];
    const p = sigmoid(z);
    const y = r[k];
    loss -= y * Math.log(p + 1e-12) + (1 - y) * Math.log(1 - p + 1e-12);
    const d = p - y;
    for (let j = 0; j < k; j++) gw[j] += d * r[j];
    gb += d;
  }
  const n = rows.length;
  w = w.map((wj, j) => wj - lr * (gw[j] / n + l2 * wj));
  b -= lr * (gb / n);
  loss /= n;
  if (e % every === 0 || e === epochs) metric('train_loss', loss, e);
}
fs.writeFileSync(
  modelFile,
  JSON.stringify(
    {
      kind: 'logistic-regression',
      features: cols.slice(0, k),
      weights: w,
      bias: b,
      epochs,
      learningRate: lr,
    },
    null,
    2,
  ) + '\n',
);
metric('final_train_loss', loss);
console.log(`trained ${epochs} epochs on ${rows.length} rows; loss ${loss.toFixed(4)}`);
