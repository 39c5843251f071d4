/**
 * Behaviour: appStart runs once after loading, preInvocation and postInvocation run around every
 * invocation sharing per-invocation hookData (a pre hook may replace the handler), and appTerminate
 * runs on stop with the hookData appStart left. Log hooks may rewrite the lines functions log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, events, startBasicHost } from './support/host';

let storage: TestStorage;
let dir: string;
before(async () => {
  storage = await startTestStorage();
  dir = await mkdtemp(join(tmpdir(), 'sluice-hooks-'));
});
after(async () => {
  await storage?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('app and invocation hooks run in order', async () => {
  const terminateFile = join(dir, 'terminated.json');
  const log = captureLog();
  const host = await startBasicHost(storage, log, { env: { BASIC_TERMINATE_FILE: terminateFile } });
  try {
    assert.equal((await events(host, 'appStart')).length, 1);

    const hello = await fetch(`${host.baseUrl}/api/hello?name=hooks`);
    assert.equal(await hello.text(), 'Hello, hooks');
    assert.equal(hello.headers.get('x-hooked'), 'pre', 'the preInvocation hook wrapped the handler');
    assert.ok(log.lines.includes('INFO [hello] greeting hooks (seen by the log hook in hello)'));
    assert.equal((await fetch(`${host.baseUrl}/api/boom`)).status, 500);

    const post = await events(host, 'postInvocation');
    assert.deepEqual(
      post.map((e) => [e.functionName, e.sawPre, e.failed]),
      [
        ['hello', true, false],
        ['boom', true, true],
      ],
    );
  } finally {
    await host.stop();
  }
  assert.deepEqual(JSON.parse(await readFile(terminateFile, 'utf8')), { sawAppStart: true });
});
