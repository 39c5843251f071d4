import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { resultFile, type ShardDriverConfig } from '../../lib/compute/shard-driver';
import type { ShardEnd } from '../../lib/compute/shard-loop';
import { extractSection } from '../../lib/compute/shard';

const DRIVER = join(__dirname, '..', '..', 'lib', 'compute', 'shard-driver.js');

/** A shard of three one-file mini-batches (2, 3, 4) in a fresh job folder, and its driver config. */
function shardJob(script: string, over: Partial<ShardDriverConfig> = {}): { config: string; root: string } {
  const root = mkdtempSync(join(os.tmpdir(), 'sluice-shard-'));
  for (const [i, name] of [
    [2, 'a'],
    [3, 'b'],
    [4, 'c'],
  ] as const) {
    mkdirSync(join(root, 'inputs', 'input', String(i)), { recursive: true });
    writeFileSync(join(root, 'inputs', 'input', String(i), `${name}.txt`), `${name}\n`);
  }
  mkdirSync(join(root, 'code'));
  const cfg: ShardDriverConfig = {
    spec: {
      command: '',
      // No shell parses the paths: they are arguments of the script.
      args: ['sh', '-c', script, 'score', '${{minibatch}}', '${{outputs.o}}'],
      env: { MARK: join(root, 'marker') },
      outputs: [{ name: 'o', type: 'file' }],
      timeoutMs: 1000,
    },
    shard: { first: 2, count: 3, batchType: 'directory', retries: 1, outputAction: 'appendRow' },
    paths: {
      inputs: { input: join(root, 'inputs', 'input') },
      outputs: { o: join(root, 'outputs', 'o') },
      minibatch: join(root, 'minibatch.txt'),
    },
    jobEnv: { PATH: process.env.PATH },
    codeDir: join(root, 'code'),
    outputsDir: join(root, 'outputs'),
    jobRoot: root,
    killGraceMs: 500,
    ...over,
  };
  const config = join(root, 'shard.json');
  writeFileSync(config, JSON.stringify(cfg));
  return { config, root };
}

function runDriver(
  config: string,
  onStart?: (pid: number) => void,
): Promise<{ code: number | null; log: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [DRIVER, config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stdout.on('data', (b: Buffer) => (log += b.toString()));
    p.stderr.on('data', (b: Buffer) => (log += b.toString()));
    if (onStart) onStart(p.pid!);
    p.on('close', (code) => resolve({ code, log }));
  });
}

test('a shard driver runs its mini-batches in order, retries a failed one, times out a slow one, and keeps going', async () => {
  const { config, root } = shardJob(
    [
      'f=$(cat "$1")',
      'case "$f" in',
      '  */3/b.txt) sleep 5 ;;',
      '  */4/c.txt) if [ ! -e "$MARK" ]; then touch "$MARK"; echo boom >&2; exit 3; fi ;;',
      'esac',
      'cat "$f" > "$2"',
    ].join('\n'),
  );
  try {
    const { code, log } = await runDriver(config);
    assert.equal(code, 0, log);
    const end = JSON.parse(readFileSync(resultFile(config), 'utf8')) as ShardEnd;
    assert.ok('report' in end, JSON.stringify(end));
    assert.deepEqual(end.report.failed, [3], 'the slow mini-batch timed out on both attempts');
    assert.equal(end.report.succeeded, 2);
    assert.deepEqual(
      end.report.errors.map((e) => [e.batch, e.attempt, e.code]),
      [
        [3, 1, 'timeout'],
        [3, 2, 'timeout'],
        [4, 1, 'exit-code'],
      ],
    );
    // The outputs wait in the job folder for the runner to upload: mini-batch rows in order.
    assert.equal(readFileSync(join(root, 'shard-outputs', 'o'), 'utf8'), 'a\nc\n');
    assert.match(extractSection(log, 4, 1) ?? '', /^boom$/m);
    assert.match(extractSection(log, 4, 1) ?? '', /trying again in 2000 ms/);
    assert.doesNotMatch(extractSection(log, 4, 2) ?? '', /^boom$/m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a shard driver told to stop (SIGTERM) stops its running mini-batch and ends without a report', async () => {
  const { config, root } = shardJob('echo started; sleep 30; cat "$(cat "$1")" > "$2"', {});
  try {
    const t0 = Date.now();
    const { code, log } = await runDriver(config, (pid) => {
      setTimeout(() => process.kill(pid, 'SIGTERM'), 1500);
    });
    assert.equal(code, 0, log);
    assert.ok(Date.now() - t0 < 10_000, 'the driver did not wait for the 30 s mini-batch');
    const end = JSON.parse(readFileSync(resultFile(config), 'utf8')) as ShardEnd;
    assert.deepEqual(end, { processMs: end.processMs, outcome: { kind: 'canceled' } });
    assert.match(log, /started/);
    assert.doesNotMatch(log, /==> batch 3/, 'no mini-batch started after the stop');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
