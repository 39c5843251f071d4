// Sums up the gathered scores (`id,score,churn` rows, no header: the concatenation of the mini-batches'
// outputs): how many customers were scored and flagged. Writes a small JSON summary and reports the
// counts as metrics to $SLUICE_METRICS.
//   node summarize.js --scores FILE --out JSON
'use strict';
const fs = require('node:fs');
const { args } = require('./csv-model');

const a = args(process.argv.slice(2));
for (const k of ['scores', 'out'])
  if (typeof a[k] !== 'string') {
    console.error(`usage: node summarize.js --scores FILE --out JSON (missing --${k})`);
    process.exit(2);
  }
const lines = fs
  .readFileSync(a.scores, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
let flagged = 0;
const ids = new Set();
for (const [i, l] of lines.entries()) {
  const [id, score, churn, extra] = l.split(',');
  // A header here means a batch wrote one: appendRow would repeat it once per batch.
  if (extra !== undefined || !id || !/^(0|1)(\.\d+)?$/.test(score ?? '') || !/^[01]$/.test(churn ?? ''))
    throw new Error(
      `${a.scores}:${i + 1}: expected "id,score,churn" values, got "${l}"` +
        (l.startsWith('id,') ? ' (a header: score each batch with --no-header)' : ''),
    );
  if (ids.has(id)) throw new Error(`${a.scores}:${i + 1}: customer ${id} was scored twice`);
  ids.add(id);
  if (churn === '1') flagged++;
}
const summary = { scored: lines.length, flagged, flaggedShare: lines.length ? flagged / lines.length : 0 };
fs.writeFileSync(a.out, JSON.stringify(summary, null, 2) + '\n');
console.log(`${summary.scored} customer(s) scored, ${flagged} flagged as likely to churn`);
if (process.env.SLUICE_METRICS)
  fs.appendFileSync(
    process.env.SLUICE_METRICS,
    JSON.stringify({ name: 'scored', value: summary.scored }) +
      '\n' +
      JSON.stringify({ name: 'flagged', value: flagged }) +
      '\n',
  );
