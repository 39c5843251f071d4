'use strict';
// Small shared helpers for the churn example: arguments, a seeded PRNG, CSV, metrics reporting.
const fs = require('node:fs');

function args(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

function required(a, name) {
  if (a[name] === undefined) throw new Error(`missing --${name}`);
  return a[name];
}

/** mulberry32: tiny, fast, good enough for synthetic data; deterministic per seed. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand) {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function readCsv(file) {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return { cols, rows: lines.map((l) => l.split(',').map(Number)) };
}

function writeCsv(file, cols, rows) {
  fs.writeFileSync(
    file,
    [cols.join(','), ...rows.map((r) => r.map((v) => +v.toFixed(6)).join(','))].join('\n') + '\n',
  );
}

/** Appends a metric to $SLUICE_METRICS (JSON lines), which Sluice records on the step. */
function metric(name, value, step) {
  const line = JSON.stringify(step === undefined ? { name, value } : { name, value, step });
  if (process.env.SLUICE_METRICS) fs.appendFileSync(process.env.SLUICE_METRICS, line + '\n');
  else console.log(`metric ${line}`);
}

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

module.exports = { args, required, rng, gaussian, readCsv, writeCsv, metric, sigmoid };
