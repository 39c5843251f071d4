/**
 * Behaviour: with SLUICE_MASTER_KEY set, the durable management API on the host's port answers 401
 * (problem+json) without an accepted key, on both prefixes, and serves requests that carry the key as
 * `code` or `x-functions-key`. The links it hands out carry a key that works (not the master key), so
 * clients can follow them, and the app's durable client binding keeps working without one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDurableHost } from './support/durable-host';
import { durableClient as runsDurableClient } from '../../lib/runs/durable-client';

const KEY = 'master-key-for-the-durable-api-test';
const h = useDurableHost({ env: { SLUICE_MASTER_KEY: KEY } });

async function until(url: string, init: RequestInit, done: (status: number) => boolean): Promise<Response> {
  for (let i = 0; i < 400; i++) {
    const res = await fetch(url, init);
    if (done(res.status)) return res;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting on ${new URL(url).pathname}`);
}

test('without a key both prefixes answer 401 problem+json; the master key opens them', async () => {
  for (const path of ['/runtime/webhooks/durabletask/instances/', '/durabletask/instances/']) {
    for (const init of [{}, { headers: { 'x-functions-key': 'wrong' } }]) {
      const res = await fetch(`${h.baseUrl}${path}`, init);
      assert.equal(res.status, 401, path);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      const text = await res.text();
      const problem = JSON.parse(text) as { status: number; detail: string; instance: string };
      assert.equal(problem.status, 401);
      assert.equal(problem.instance, path);
      assert.match(problem.detail, /master key .* x-functions-key header or the code query parameter/);
      assert.ok(!text.includes(KEY));
    }
    const wrongCode = await fetch(`${h.baseUrl}${path}?code=nope`);
    assert.equal(wrongCode.status, 401);
    const byQuery = await fetch(`${h.baseUrl}${path}?code=${KEY}`);
    assert.equal(byQuery.status, 200);
    assert.ok(Array.isArray(await byQuery.json()));
    const byHeader = await fetch(`${h.baseUrl}${path}`, { headers: { 'x-functions-key': KEY } });
    assert.equal(byHeader.status, 200);
  }
  const start = await fetch(`${h.baseUrl}/runtime/webhooks/durabletask/orchestrators/helloCities`, {
    method: 'POST',
  });
  assert.equal(start.status, 401);
});

test('createCheckStatusResponse links carry a working key, not the master key', async () => {
  // An anonymous starter function: its client call goes through the binding, its answer to the caller.
  const res = await fetch(`${h.baseUrl}/api/start/helloCities`, { method: 'POST' });
  assert.equal(res.status, 202);
  const links = (await res.json()) as Record<string, string>;
  assert.equal(res.headers.get('location'), links.statusQueryGetUri);
  const code = new URL(links.statusQueryGetUri!).searchParams.get('code');
  assert.ok(code, 'the status link carries code=');
  assert.notEqual(code, KEY);
  for (const name of ['sendEventPostUri', 'terminatePostUri', 'purgeHistoryDeleteUri', 'suspendPostUri'])
    assert.ok(links[name]!.includes(`code=${code}`), name);

  const done = await until(links.statusQueryGetUri!, {}, (s) => s !== 202);
  assert.equal(done.status, 200);
  assert.equal(((await done.json()) as { runtimeStatus: string }).runtimeStatus, 'Completed');
  const purge = await fetch(links.purgeHistoryDeleteUri!, { method: 'DELETE' });
  assert.equal(purge.status, 200);

  // Event and terminate links of a waiting instance; the link key also works as a header.
  const wait = await fetch(`${h.baseUrl}/api/start/waitForever`, { method: 'POST' });
  const w = (await wait.json()) as Record<string, string>;
  const ev = await fetch(w.sendEventPostUri!.replace('{eventName}', 'Other'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '"ignored"',
  });
  assert.equal(ev.status, 202);
  const term = await fetch(w.terminatePostUri!.replace('{text}', 'enough'), { method: 'POST' });
  assert.equal(term.status, 202);
  const bare = `${h.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(w.id!)}`;
  const ended = await until(bare, { headers: { 'x-functions-key': code } }, (s) => s !== 202);
  assert.equal(((await ended.json()) as { runtimeStatus: string }).runtimeStatus, 'Terminated');
});

test('a start over the webhook with the key returns links that work', async () => {
  const res = await fetch(`${h.baseUrl}/runtime/webhooks/durabletask/orchestrators/helloCities?code=${KEY}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '',
  });
  assert.equal(res.status, 202);
  const links = (await res.json()) as Record<string, string>;
  assert.equal(res.headers.get('location'), links.statusQueryGetUri);
  const done = await until(links.statusQueryGetUri!, {}, (s) => s !== 202);
  assert.equal(done.status, 200);
});

test('durable clients inside the app need no key: the binding and the runs module fallback', async () => {
  const res = await fetch(`${h.baseUrl}/api/start/helloCities/keyed-bind`, { method: 'POST' });
  assert.equal(res.status, 202);
  await res.body?.cancel();
  // statusOf reads through the app's durableClient binding.
  const status = await until(`${h.baseUrl}/api/status/keyed-bind`, {}, (s) => s === 200);
  assert.equal(((await status.json()) as { instanceId: string }).instanceId, 'keyed-bind');

  // lib/runs builds its own client (queue and timer functions have no binding) from the setting the
  // engine publishes.
  assert.match(process.env.SLUICE_DURABLE_RPC_URL ?? '', /^http:\/\/127\.0\.0\.1:\d+\/durabletask\/$/);
  const client = runsDurableClient();
  const id = await client.startNew('helloCities', { instanceId: 'keyed-fallback' });
  assert.equal(id, 'keyed-fallback');
  for (let i = 0; i < 400; i++) {
    const s = await client.getStatus(id);
    if (s.runtimeStatus === 'Completed') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await client.getStatus(id)).runtimeStatus, 'Completed');
});
