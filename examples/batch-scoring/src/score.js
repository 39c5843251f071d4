// Batch scoring: reads customer rows (CSV), applies a logistic model, writes `id,score,churn` rows.
// Plain Node, no dependencies. Reports metrics as JSON lines to $SLUICE_METRICS when set.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

function parseCsv(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines
    .shift()
    .split(',')
    .map((h) => h.trim());
  return { header, rows: lines.map((l) => l.split(',').map((c) => c.trim())) };
}

function csvFiles(p) {
  const st = fs.statSync(p);
  if (st.isFile()) return [p];
  return fs
    .readdirSync(p, { recursive: true })
    .map((f) => path.join(p, String(f)))
    .filter((f) => f.endsWith('.csv') && fs.statSync(f).isFile())
    .sort();
}

/** Accepts {features, weights: number[] | {name: w}, bias, mean?, std?} (also the churn example's model). */
function loadModel(file) {
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  const features = m.features;
  if (!Array.isArray(features) || features.length === 0)
    throw new Error(`${file}: the model has no "features" list`);
  const weights = Array.isArray(m.weights) ? m.weights : features.map((f) => m.weights[f]);
  if (weights.length !== features.length || weights.some((w) => typeof w !== 'number'))
    throw new Error(`${file}: "weights" must give a number for each of ${features.join(', ')}`);
  const mean = m.mean
    ? features.map((f, i) => (Array.isArray(m.mean) ? m.mean[i] : m.mean[f]) || 0)
    : features.map(() => 0);
  const std = m.std
    ? features.map((f, i) => (Array.isArray(m.std) ? m.std[i] : m.std[f]) || 1)
    : features.map(() => 1);
  return { features, weights, bias: Number(m.bias) || 0, mean, std };
}

const a = args(process.argv.slice(2));
for (const k of ['data', 'model', 'out'])
  if (!a[k]) {
    console.error(
      `usage: node score.js --data CSV|DIR --model JSON --out FILE [--threshold 0.5] (missing --${k})`,
    );
    process.exit(2);
  }
const threshold = a.threshold === undefined ? 0.5 : Number(a.threshold);
const model = loadModel(a.model);
const out = ['id,score,churn'];
let flagged = 0;
let scored = 0;
for (const file of csvFiles(a.data)) {
  const { header, rows } = parseCsv(fs.readFileSync(file, 'utf8'));
  const idCol = header.findIndex((h) => h === 'id' || h === 'customer' || h === 'customer_id');
  const cols = model.features.map((f) => {
    const i = header.indexOf(f);
    if (i < 0)
      throw new Error(`${file}: column "${f}" is missing; the model needs ${model.features.join(', ')}`);
    return i;
  });
  for (const [n, row] of rows.entries()) {
    let z = model.bias;
    cols.forEach((c, i) => {
      z += model.weights[i] * ((Number(row[c]) - model.mean[i]) / model.std[i]);
    });
    const score = 1 / (1 + Math.exp(-z));
    const churn = score >= threshold;
    if (churn) flagged++;
    scored++;
    out.push(
      `${idCol >= 0 ? row[idCol] : `${path.basename(file)}:${n + 1}`},${score.toFixed(4)},${churn ? 1 : 0}`,
    );
  }
}
fs.writeFileSync(a.out, out.join('\n') + '\n');
console.log(`scored ${scored} row(s); ${flagged} at or above ${threshold}`);
if (process.env.SLUICE_METRICS)
  fs.appendFileSync(
    process.env.SLUICE_METRICS,
    JSON.stringify({ name: 'rows', value: scored }) +
      '\n' +
      JSON.stringify({ name: 'flagged', value: flagged }) +
      '\n',
  );
