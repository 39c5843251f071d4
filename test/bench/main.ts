/**
 * `npm run bench`: runs each benchmark module in turn and prints its figures as `name value` lines.
 * Pick modules with `SLUICE_BENCH=durable,runs` (default: all). Timing lives here, never in tests.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const MODULES = [
  'host',
  'stack',
  'durable',
  'data',
  'runs',
  'automl',
  'environments',
  'compute',
  'snapshots',
];

async function main(): Promise<void> {
  const wanted = (process.env.SLUICE_BENCH || MODULES.join(',')).split(',').map((s) => s.trim());
  let failed = false;
  for (const name of MODULES.filter((m) => wanted.includes(m))) {
    const file = join(__dirname, `${name}.js`);
    if (!existsSync(file)) {
      console.log(`# ${name}: not built`);
      continue;
    }
    console.log(`# ${name}`);
    const started = Date.now();
    try {
      const mod = (await import(file)) as { run(): Promise<void> };
      await mod.run();
      console.log(`# ${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      failed = true;
      console.log(`# ${name}: FAILED ${(err as Error).stack ?? err}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
