// Reading customer CSVs and the logistic model (score.js). Plain Node.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** `--name value` pairs; a `--flag` followed by another option (or nothing) is `true`. */
function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) out[key] = true;
    else {
      out[key] = value;
      i++;
    }
  }
  return out;
}

/** A CSV with a header row; blank lines and lines starting with `#` are skipped. */
function parseCsv(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  return { header, rows: lines.map((l) => l.split(',').map((c) => c.trim())) };
}

/** A CSV file as it is, or every `.csv` under a folder, in path order. */
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
function toModel(m, where) {
  const features = m && m.features;
  if (!Array.isArray(features) || features.length === 0)
    throw new Error(`${where}: the model has no "features" list`);
  const weights = Array.isArray(m.weights) ? m.weights : features.map((f) => (m.weights || {})[f]);
  if (weights.length !== features.length || weights.some((w) => typeof w !== 'number'))
    throw new Error(`${where}: "weights" must give a number for each of ${features.join(', ')}`);
  const mean = m.mean
    ? features.map((f, i) => (Array.isArray(m.mean) ? m.mean[i] : m.mean[f]) || 0)
    : features.map(() => 0);
  const std = m.std
    ? features.map((f, i) => (Array.isArray(m.std) ? m.std[i] : m.std[f]) || 1)
    : features.map(() => 1);
  return { features, weights, bias: Number(m.bias) || 0, mean, std };
}

function loadModel(file) {
  return toModel(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

/** The header index of each model feature. */
function featureColumns(header, model, file) {
  return model.features.map((f) => {
    const i = header.indexOf(f);
    if (i < 0)
      throw new Error(`${file}: column "${f}" is missing; the model needs ${model.features.join(', ')}`);
    return i;
  });
}

module.exports = { args, parseCsv, csvFiles, toModel, loadModel, featureColumns };
