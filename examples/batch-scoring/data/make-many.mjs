// Writes data/many/customers-01.csv … customers-06.csv: 5 customers each, the churn example's columns
// (so both examples/batch-scoring/model.json and the churn sweep's model can score them). Deterministic:
// a fixed seed, so running it again gives the same files (and the same dataset hash).
//   node examples/batch-scoring/data/make-many.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = 6;
const ROWS = 5;
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'many');

// mulberry32: a tiny seeded generator, so the data needs no dependency and never changes.
let seed = 20261124;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

fs.mkdirSync(dir, { recursive: true });
for (let f = 1; f <= FILES; f++) {
  const lines = ['id,tenure_months,monthly_charges,support_calls,contract_annual,late_payments'];
  for (let r = 0; r < ROWS; r++) {
    const id = `c-${String(200 + (f - 1) * ROWS + r + 1).padStart(3, '0')}`;
    const tenure = int(1, 72);
    const charges = (20 + random() * 100).toFixed(1);
    const calls = int(0, 6);
    const annual = random() < 0.4 ? 1 : 0;
    const late = int(0, 4);
    lines.push(`${id},${tenure},${charges},${calls},${annual},${late}`);
  }
  const file = path.join(dir, `customers-${String(f).padStart(2, '0')}.csv`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  console.log(`wrote ${path.relative(process.cwd(), file)} (${ROWS} customers)`);
}
