import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { startTestStack, type TestStack } from '../support/stack';
import { startHost, type RunningHost } from '../../lib/host/index';

const exec = promisify(execFile);
const REPO = join(__dirname, '..', '..', '..');

let stack: TestStack;
let host: RunningHost;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-ds-http-'));
  const quiet = (): void => {};
  host = await startHost({
    appDir: REPO,
    port: 0,
    embeddedStack: false,
    env: stack.env,
    logger: { info: quiet, warn: quiet, error: (m: string) => process.stderr.write(m + '\n') },
    shutdownTimeoutMs: 5000,
  });
});

after(async () => {
  await host?.stop();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function problem(
  res: Response,
  status: number,
): Promise<{ errors?: Array<{ pointer: string; message: string }>; detail: string }> {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  return (await res.json()) as { errors?: Array<{ pointer: string; message: string }>; detail: string };
}

test('datasets register and version over HTTP and the CLI; artifacts download by hash', async () => {
  const api = `${host.baseUrl}/api`;
  const post = (name: string, body: RequestInit['body'], type: string): Promise<Response> =>
    fetch(`${api}/datasets/${name}`, { method: 'POST', body, headers: { 'content-type': type } });

  const first = await post('iris', 'a,b\n1,2\n', 'text/csv');
  assert.equal(first.status, 201);
  const v1 = (await first.json()) as { version: number; hash: string; ref: string; created: boolean };
  assert.equal(v1.ref, 'iris@1');
  const same = await post('iris', 'a,b\n1,2\n', 'text/csv');
  assert.equal(same.status, 200);
  assert.equal(((await same.json()) as { version: number }).version, 1);

  // A file artifact downloads as its bytes, verified.
  const file = await fetch(`${api}/artifacts/${v1.hash}`);
  assert.equal(file.status, 200);
  assert.equal(await file.text(), 'a,b\n1,2\n');
  assert.equal(file.headers.get('x-sluice-artifact-type'), 'file');

  // The CLI uploads a directory as a tar.gz and prints name@version.
  const dir = join(tmp, 'images');
  await mkdir(join(dir, 'cats'), { recursive: true });
  await writeFile(join(dir, 'cats', 'one.txt'), 'meow');
  await writeFile(join(dir, 'labels.csv'), 'cat\n');
  const cli = await exec(process.execPath, [
    join(REPO, 'bin', 'sluice.js'),
    '--endpoint',
    host.baseUrl,
    'datasets',
    'register',
    'images',
    dir,
  ]);
  assert.equal(cli.stdout.trim(), 'images@1');
  const again = await exec(process.execPath, [
    join(REPO, 'bin', 'sluice.js'),
    '--endpoint',
    host.baseUrl,
    'datasets',
    'register',
    'images',
    dir,
  ]);
  assert.equal(again.stdout.trim(), 'images@1');
  assert.match(again.stderr, /unchanged/);
  const listed = await exec(process.execPath, [
    join(REPO, 'bin', 'sluice.js'),
    '--endpoint',
    host.baseUrl,
    'datasets',
    'list',
  ]);
  assert.match(listed.stdout, /^images\s+@1\s+directory/m);
  const shown = await exec(process.execPath, [
    join(REPO, 'bin', 'sluice.js'),
    '--endpoint',
    host.baseUrl,
    'datasets',
    'show',
    'images',
  ]);
  assert.match(shown.stdout, /^1\s+directory\s+2\s+/m);

  const images = (await (await fetch(`${api}/datasets/images/versions/latest`)).json()) as {
    hash: string;
    type: string;
    files: number;
  };
  assert.equal(images.type, 'directory');
  assert.equal(images.files, 2);
  const manifest = (await (await fetch(`${api}/artifacts/${images.hash}`)).json()) as Array<{ path: string }>;
  assert.deepEqual(
    manifest.map((e) => e.path),
    ['cats/one.txt', 'labels.csv'],
  );
  assert.equal(await (await fetch(`${api}/artifacts/${images.hash}?path=cats/one.txt`)).text(), 'meow');
  await problem(await fetch(`${api}/artifacts/${images.hash}?path=cats/two.txt`), 404);
  await problem(await fetch(`${api}/artifacts/not-a-hash`), 400);
  await problem(await fetch(`${api}/artifacts/sha256:${'0'.repeat(64)}`), 404);
  assert.equal((await fetch(`${api}/artifacts/${images.hash}/lineage`)).status, 200);

  // A tar.gz over HTTP with a changed file makes version 2 of iris (a directory now).
  const v2 = await post('iris', tarGz({ 'data.csv': 'a,b\n3,4\n' }), 'application/gzip');
  assert.equal(v2.status, 201);
  assert.equal(((await v2.json()) as { version: number }).version, 2);

  // Lists page with continuation tokens.
  const page1 = (await (await fetch(`${api}/datasets?limit=1`)).json()) as {
    items: unknown[];
    continuationToken?: string;
  };
  assert.equal(page1.items.length, 1);
  assert.ok(page1.continuationToken);
  const page2 = (await (
    await fetch(`${api}/datasets?limit=1&continuationToken=${encodeURIComponent(page1.continuationToken!)}`)
  ).json()) as {
    items: Array<{ name: string }>;
  };
  assert.equal(page2.items.length, 1);
  const versions = (await (await fetch(`${api}/datasets/iris`)).json()) as {
    items: Array<{ version: number }>;
  };
  assert.deepEqual(
    versions.items.map((v) => v.version),
    [2, 1],
  );

  // Bad input: clear problems, nothing stored.
  const noPath = await problem(await post('iris', '{"paht":"x"}', 'application/json'), 400);
  assert.deepEqual(noPath.errors!.map((e) => e.pointer).sort(), ['/paht', '/path']);
  const missing = await problem(await post('iris', '{"path":"raw/nothing"}', 'application/json'), 400);
  assert.equal(missing.errors![0]!.pointer, '/path');
  await problem(await post('iris', 'not gzip at all', 'application/gzip'), 400);
  await problem(await post('bad name!', 'x', 'text/plain'), 400);
  await problem(await fetch(`${api}/datasets/iris/versions/9`), 404);
  await problem(await fetch(`${api}/datasets/iris/versions/x`), 400);
  await problem(await fetch(`${api}/datasets/unknown`), 404);
  assert.equal(
    ((await (await fetch(`${api}/datasets/iris`)).json()) as { latest: { version: number } }).latest.version,
    2,
  );
});

/** A minimal ustar archive, gzipped: enough for small test files. */
function tarGz(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const header = Buffer.alloc(512);
    const body = Buffer.from(content);
    header.write(name, 0);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
