'use strict';
// Generates customers whose churn follows a known logistic mechanism plus noise, standardises the
// features on the training split, and writes train.csv, test.csv and stats.json to --out.
const fs = require('node:fs');
const path = require('node:path');
const { args, required, rng, gaussian, writeCsv, metric } = require('./lib');

const a = args();
const rows = Number(required(a, 'rows'));
const seed = Number(required(a, 'seed'));
const out = required(a, 'out');
const rand = rng(seed);

const FEATURES = ['tenure_months', 'monthly_charges', 'support_calls', 'contract_annual', 'late_payments'];
const data = [];
for (let i = 0; i < rows; i++) {
  const tenure = Math.min(72, Math.max(1, Math.round(36 + 20 * gaussian(rand))));
  const charges = Math.max(15, 70 + 25 * gaussian(rand));
  const calls = Math.max(0, Math.round(2 + 1.5 * gaussian(rand)));
  const annual = rand() < 0.45 ? 1 : 0;
  const late = Math.max(0, Math.round(1 + gaussian(rand)));
  const z =
    -0.5 -
    0.06 * (tenure - 36) +
    0.03 * (charges - 70) +
    0.55 * (calls - 2) -
    1.6 * annual +
    0.7 * (late - 1) +
    0.6 * gaussian(rand);
  const churn = rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  data.push([tenure, charges, calls, annual, late, churn]);
}

const cut = Math.floor(rows * 0.8);
const train = data.slice(0, cut);
const test = data.slice(cut);
const mean = FEATURES.map((_, j) => train.reduce((s, r) => s + r[j], 0) / train.length);
const std = FEATURES.map(
  (_, j) => Math.sqrt(train.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / train.length) || 1,
);
const scale = (r) => [...FEATURES.map((_, j) => (r[j] - mean[j]) / std[j]), r[FEATURES.length]];

fs.mkdirSync(out, { recursive: true });
const cols = [...FEATURES, 'churn'];
writeCsv(path.join(out, 'train.csv'), cols, train.map(scale));
writeCsv(path.join(out, 'test.csv'), cols, test.map(scale));
fs.writeFileSync(
  path.join(out, 'stats.json'),
  JSON.stringify({ features: FEATURES, mean, std, rows, seed }, null, 2) + '\n',
);

const rate = data.reduce((s, r) => s + r[FEATURES.length], 0) / rows;
metric('rows', rows);
metric('churn_rate', rate);
console.log(
  `prepared ${train.length} training and ${test.length} test customers; churn rate ${(rate * 100).toFixed(1)}%`,
);
