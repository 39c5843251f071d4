/**
 * Conformance: an app pinned to durable-functions 3.1.0 (still common in deployed apps; its replay schema
 * tops out at V3, with no entity locks) runs unchanged under the local host: an HTTP starter returning
 * createCheckStatusResponse, a sequence, fan-out/fan-in with a retried activity, a timer raced against an
 * event, the Counter entity, and callHttp polling a 202. The fixture's own node_modules is installed from
 * the npm registry on first use (`npm install --prefix`, about 5 s) and kept, git-ignored, in the fixture.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  REPO,
  startDurableHost,
  startTestAzurite,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

const APP = path.join(REPO, 'test', 'fixtures', 'apps', 'durable-pinned-3.1');
const PINNED = '3.1.0';

function installedVersion(): string | undefined {
  try {
    return JSON.parse(
      fs.readFileSync(path.join(APP, 'node_modules', 'durable-functions', 'package.json'), 'utf8'),
    ).version;
  } catch {
    return undefined;
  }
}

let storage: TestAzurite;
let h: DurableTestHost;
before(async () => {
  if (installedVersion() !== PINNED) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    await promisify(execFile)(
      npm,
      ['install', '--prefix', APP, '--no-audit', '--no-fund', '--no-package-lock'],
      {
        cwd: APP,
        timeout: 240_000,
      },
    );
  }
  assert.equal(installedVersion(), PINNED, 'the fixture runs the pinned durable-functions');
  storage = await startTestAzurite();
  h = await startDurableHost(storage, { appDir: APP, hub: 'Pinned31Hub' });
});
after(async () => {
  await h?.stop();
  await storage?.stop();
});

/** Starts through the app's own HTTP starter and follows its check-status links to the end. */
async function run(name: string, input?: unknown, onStart?: (links: any) => Promise<void>): Promise<any> {
  const res = await fetch(`${h.baseUrl}/api/orchestrators/${name}`, {
    method: 'POST',
    body: input === undefined ? '' : JSON.stringify(input),
  });
  assert.equal(res.status, 202);
  const links = (await res.json()) as any;
  await onStart?.(links);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = (await (await fetch(links.statusQueryGetUri)).json()) as any;
    if (['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus)) return s;
    if (Date.now() > deadline) throw new Error(`${name} did not finish: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a durable-functions 3.1.0 app runs every pattern unchanged', async () => {
  const hello = await run('helloCities');
  assert.deepEqual(hello.output, ['Hello, Tokyo!', 'Hello, Seattle!', 'Hello, Cairo!']);

  const fan = await run('fanOutFanIn');
  assert.equal(fan.runtimeStatus, 'Completed', JSON.stringify(fan));
  assert.deepEqual(fan.output, { results: ['Hello, a!', 'Hello, b!', 'Hello, c!', 'Hello, d!'], retried: 2 });

  const approval = await run('approval', undefined, async (links) => {
    await new Promise((r) => setTimeout(r, 300));
    const ev = await fetch(links.sendEventPostUri.replace('{eventName}', 'Approve'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify('yes'),
    });
    assert.equal(ev.status, 202);
  });
  assert.deepEqual(approval.output, { approved: 'yes' });

  const counter = await run('counter', 'pinned');
  assert.equal(counter.runtimeStatus, 'Completed', JSON.stringify(counter));
  assert.equal(counter.output, 42);

  const polling = await run('polling', h.baseUrl);
  assert.equal(polling.runtimeStatus, 'Completed', JSON.stringify(polling));
  assert.deepEqual(polling.output, { statusCode: 200, content: { done: true } });
});
