/**
 * `code: { path, include }`: selecting a step's files from a code directory of 50, 1,000 and 10,000
 * files with three patterns (a file, a `dir/**` and a `**` glob), as the CLI does before uploading and the
 * server does at publish and draft run. Median of 5.
 */
import { selectIncluded } from '../../lib/snapshots/include';

const print = (name: string, value: number | string): void =>
  console.log(`snapshots.${name} ${typeof value === 'number' ? value.toFixed(2) : value}`);

export async function run(): Promise<void> {
  for (const n of [50, 1_000, 10_000]) {
    const paths = Array.from({ length: n }, (_, i) => `pkg${i % 50}/mod${i}.py`).concat('train.py');
    const times: number[] = [];
    let kept = 0;
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      kept = selectIncluded(paths, ['train.py', 'pkg1/**', '**/mod7*.py']).kept.length;
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    print(`include_select_ms.files_${n}`, times[2]!);
    print(`include_select_kept.files_${n}`, String(kept));
  }
  await Promise.resolve();
}
