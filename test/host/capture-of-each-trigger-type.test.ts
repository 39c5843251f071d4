/**
 * Behaviour: the host captures every registration the app makes through @azure/functions-core —
 * http, timer and queue triggers, durable orchestration/activity/entity triggers and durableClient
 * inputs — and hands durable ones to the extension that owns them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHost, type RunningHost } from '../../lib/host/index';
import type { BindingInfo, HostContext, HostExtension } from '../../lib/host/types';
import { startTestStorage, BASIC_APP, type TestStorage } from './support/storage';
import { captureLog, startBasicHost } from './support/host';

let storage: TestStorage;
before(async () => {
  storage = await startTestStorage();
});
after(async () => {
  await storage?.stop();
});

test('http, timer and queue registrations are captured with their binding options', async () => {
  const log = captureLog();
  const host = await startBasicHost(storage, log);
  try {
    const types = new Map([...host.functions.values()].map((f) => [f.name, f.trigger.type]));
    assert.equal(types.get('hello'), 'httpTrigger');
    assert.equal(types.get('tick'), 'timerTrigger');
    assert.equal(types.get('work'), 'queueTrigger');
    assert.equal(host.functions.get('tick')!.trigger.schedule, '0 */5 * * * *');
    assert.equal(host.functions.get('work')!.trigger.queueName, 'basic-work');
    assert.equal(host.functions.get('itemGet')!.trigger.route, 'items/{id:int}');
    const relay = host.functions.get('relay')!;
    assert.equal(relay.bindings.$return!.type, 'queue');
    // The start-up table lists each function with its trigger and route, schedule or queue.
    const table = log.lines.find((l) => l.includes('Functions ('))!;
    assert.match(table, /hello\s+http\s+\[GET,POST\] http:\/\/127\.0\.0\.1:\d+\/api\/hello/);
    assert.match(table, /tick\s+timer\s+0 \*\/5 \* \* \* \*/);
    assert.match(table, /work\s+queue\s+basic-work \(AzureWebJobsStorage\)/);
  } finally {
    await host.stop();
  }
});

/** A real extension implementation that records what the host gives it. */
function recordingExtension() {
  const seen: { ctx?: HostContext; bindings: BindingInfo[]; stopped: boolean } = {
    bindings: [],
    stopped: false,
  };
  const ext: HostExtension = {
    name: 'durable',
    triggerTypes: ['orchestrationTrigger', 'activityTrigger', 'entityTrigger'],
    async start(ctx) {
      seen.ctx = ctx;
    },
    inputBindingValue(binding) {
      if (binding.type !== 'durableClient') return undefined;
      seen.bindings.push(binding);
      const base = `${seen.ctx!.baseUrl}/runtime/webhooks/durabletask`;
      return {
        taskHubName: 'fixture',
        creationUrls: { createNewInstancePostUri: `${base}/orchestrators/{functionName}` },
        managementUrls: { id: 'INSTANCEID', statusQueryGetUri: `${base}/instances/INSTANCEID` },
        baseUrl: base,
        rpcBaseUrl: `${seen.ctx!.baseUrl}/durabletask/`,
      };
    },
    async handleHttp(_req: IncomingMessage, res: ServerResponse, url: URL) {
      if (!url.pathname.startsWith('/runtime/webhooks/durabletask/')) return false;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ served: url.pathname }));
      return true;
    },
    async stop() {
      seen.stopped = true;
    },
  };
  return { ext, seen };
}

test('durable registrations are captured and served through the extension', async () => {
  const log = captureLog();
  const { ext, seen } = recordingExtension();
  let host: RunningHost | undefined;
  try {
    host = await startHost({
      appDir: join(BASIC_APP, 'durable'),
      port: 0,
      embeddedStack: false,
      logger: log.logger,
      extensions: [ext],
      env: { AzureWebJobsStorage: storage.connectionString },
    });
    const fns = seen.ctx!.functions;
    assert.equal(fns.get('helloSequence')!.trigger.type, 'orchestrationTrigger');
    assert.equal(fns.get('sayHello')!.trigger.type, 'activityTrigger');
    assert.equal(fns.get('counter')!.trigger.type, 'entityTrigger');
    assert.ok(Object.values(fns.get('startHello')!.bindings).some((b) => b.type === 'durableClient'));
    assert.equal(seen.ctx!.hostJson.extensions.durableTask.hubName, 'fixture');
    assert.equal(seen.ctx!.baseUrl, host.baseUrl);

    // The engine invokes activities through the host; the handler's value comes back.
    const r = await seen.ctx!.invoke('sayHello', 'Tokyo');
    assert.equal(r.returnValue, 'Hello, Tokyo!');
    await assert.rejects(seen.ctx!.invoke('nope', 1), /No function named "nope"/);
    await assert.rejects(
      seen.ctx!.invoke('sayHello', 'Kyoto', { signal: AbortSignal.abort(new Error('caller gave up')) }),
      /caller gave up/,
    );

    // The durableClient input is filled from the extension for HTTP-started functions.
    const res = await fetch(`${host.baseUrl}/api/orchestrators/helloSequence`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { taskHubName: 'fixture' });

    // Paths outside the route prefix are offered to the extension.
    const hook = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/x`);
    assert.deepEqual(await hook.json(), { served: '/runtime/webhooks/durabletask/instances/x' });
    assert.equal((await fetch(`${host.baseUrl}/elsewhere`)).status, 404);
  } finally {
    await host?.stop();
  }
  assert.equal(seen.stopped, true);
});
