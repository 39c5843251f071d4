/**
 * Behaviour: the management API answers the durable client and the check-status links as the Azure
 * extension does: start with an explicit id, a conflicting start (409), an idempotent repeat, a restart
 * of a finished id, status with history, status queries paged with continuation tokens, purge by
 * filter, rewind answered 501, and problem+json for bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForFinish, waitForStatus, useDurableHost } from './support/durable-host';

const h = useDurableHost();

test('explicit id: idempotent repeat, conflict, restart after completion', async () => {
  const id = 'order-42';
  assert.equal(await h.client.startNew('waitForever', { instanceId: id, input: { a: 1 } }), id);
  assert.equal(
    await h.client.startNew('waitForever', { instanceId: id, input: { a: 1 } }),
    id,
    'same start again',
  );
  await assert.rejects(
    h.client.startNew('waitForever', { instanceId: id, input: { a: 2 } }),
    /409.*already exists/,
  );
  await h.client.terminate(id, 'done');
  await waitForFinish(h.client, id);
  assert.equal(
    await h.client.startNew('helloCities', { instanceId: id }),
    id,
    'a finished id can start again',
  );
  const again = await waitForFinish(h.client, id);
  assert.equal(again.name, 'helloCities');
  assert.equal(again.runtimeStatus, 'Completed');
});

test('unknown orchestrator is a 400 problem', async () => {
  const res = await fetch(`${h.baseUrl}/durabletask/orchestrators/nope`, { method: 'POST', body: '' });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.match(((await res.json()) as { detail: string }).detail, /'nope' doesn't exist/);
  const bad = await fetch(`${h.baseUrl}/durabletask/orchestrators/helloCities`, {
    method: 'POST',
    body: '{oops',
  });
  assert.equal(bad.status, 400);
});

test('createCheckStatusResponse links work', async () => {
  const res = await fetch(`${h.baseUrl}/api/start/helloCities`, { method: 'POST' });
  assert.equal(res.status, 202);
  const links = (await res.json()) as Record<string, string>;
  assert.equal(res.headers.get('location'), links.statusQueryGetUri);
  let status: Response;
  for (;;) {
    status = await fetch(links.statusQueryGetUri!);
    if (status.status === 200) break;
    assert.equal(status.status, 202);
    await new Promise((r) => setTimeout(r, 50));
  }
  const body = (await status.json()) as any;
  assert.equal(body.runtimeStatus, 'Completed');
  assert.equal(body.instanceId, links.id);
  const withHistory = await fetch(`${links.statusQueryGetUri}&showHistory=true&showHistoryOutput=true`);
  const h2 = (await withHistory.json()) as any;
  assert.ok(
    h2.historyEvents.some((e: any) => e.EventType === 'TaskCompleted' && e.Result === 'Hello, Tokyo!'),
  );
  const purge = await fetch(links.purgeHistoryDeleteUri!, { method: 'DELETE' });
  assert.equal(purge.status, 200);
  assert.deepEqual(await purge.json(), { instancesDeleted: 1 });

  const res2 = await fetch(`${h.baseUrl}/api/start/waitForever`, { method: 'POST' });
  const links2 = (await res2.json()) as Record<string, string>;
  const ev = await fetch(links2.sendEventPostUri!.replace('{eventName}', 'Never'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '"now"',
  });
  assert.equal(ev.status, 202);
  await waitForFinish(h.client, links2.id!);
  assert.equal((await h.client.getStatus(links2.id!)).output, 'now');
  const rewind = await fetch(links2.rewindPostUri!.replace('{text}', 'x'), { method: 'POST' });
  assert.equal(rewind.status, 501);
});

test('status by filter pages with continuation tokens', async () => {
  const from = new Date(Date.now() - 1000);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) ids.push(await h.client.startNew('waitForever', { instanceId: `page-${i}` }));
  for (const id of ids) await waitForStatus(h.client, id, (s) => s.runtimeStatus === 'Running');
  const seen: string[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const res: Response = await fetch(
      `${h.baseUrl}/durabletask/instances/?runtimeStatus=Running&instanceIdPrefix=page-&top=3`,
      { headers: token ? { 'x-ms-continuation-token': token } : {} },
    );
    assert.equal(res.status, 200);
    const page = (await res.json()) as any[];
    assert.ok(page.length <= 3);
    seen.push(...page.map((s) => s.instanceId));
    token = res.headers.get('x-ms-continuation-token');
    pages++;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(seen.sort(), [...ids].sort());

  const byClient = await h.client.getStatusBy({ createdTimeFrom: from, runtimeStatus: ['Running' as any] });
  for (const id of ids) assert.ok(byClient.some((s) => s.instanceId === id));

  for (const id of ids) await h.client.terminate(id, 'paging test over');
  for (const id of ids) await waitForFinish(h.client, id);
  const purged = await h.client.purgeInstanceHistoryBy({
    createdTimeFrom: from,
    runtimeStatus: ['Terminated' as any],
  });
  assert.ok(purged.instancesDeleted >= 7);
  const bad = await fetch(
    `${h.baseUrl}/runtime/webhooks/durabletask/instances/?runtimeStatus=Sleeping&createdTimeFrom=yesterday`,
  );
  assert.equal(bad.status, 400);
  const problem = (await bad.json()) as any;
  assert.deepEqual(problem.errors.map((e: any) => e.pointer).sort(), ['/createdTimeFrom', '/runtimeStatus']);
});

test('the durable client follows continuation tokens across pages of 100', async () => {
  const from = new Date(Date.now() - 1000);
  const ids = await Promise.all(
    Array.from({ length: 130 }, (_, i) => h.client.startNew('helloCities', { instanceId: `many-${i}` })),
  );
  for (const id of ids) await waitForFinish(h.client, id);
  const all = await h.client.getStatusBy({ createdTimeFrom: from, runtimeStatus: ['Completed' as any] });
  const found = new Set(all.map((s) => s.instanceId));
  for (const id of ids) assert.ok(found.has(id), `${id} missing from the paged result`);
  assert.equal(found.size, all.length, 'no instance appears twice');
});
