/**
 * Behaviour: the embedded stack listens on the same ports every time it starts on the same data folder,
 * so connection settings handed to agents and CLIs stay valid across restarts. A remembered port that
 * another process took is an error naming the setting that moves it; that setting moves it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { BlobServiceClient } from '@azure/storage-blob';
import { startEmbeddedStack, readStackFile, type RunningStack } from '../../lib/stack';
import { PortInUseError, rememberedPorts } from '../../lib/stack/ports';

function portsOf(dataDir: string): { blob: number; queue: number; table: number; cosmos: number } {
  const f = readStackFile(dataDir)!;
  return { ...f.azurite!.ports, cosmos: f.cosmos!.port };
}

async function occupy(port: number): Promise<net.Server> {
  const srv = net.createServer();
  srv.listen(port, '127.0.0.1');
  await once(srv, 'listening');
  return srv;
}

test('a restart on the same data folder keeps every port, and the connection string a client holds keeps working', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-ports-'));
  let stack: RunningStack | undefined;
  try {
    stack = await startEmbeddedStack({ dataDir, env: {} });
    const first = portsOf(dataDir);
    const conn = stack.env.AzureWebJobsStorage;
    await BlobServiceClient.fromConnectionString(conn).getContainerClient('kept').create();
    assert.deepEqual(rememberedPorts(dataDir), first);
    await stack.stop();

    stack = await startEmbeddedStack({ dataDir, env: {} });
    assert.deepEqual(portsOf(dataDir), first);
    assert.equal(stack.env.AzureWebJobsStorage, conn);
    // A client made before the restart goes on with the same settings.
    assert.ok(await BlobServiceClient.fromConnectionString(conn).getContainerClient('kept').exists());
  } finally {
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a remembered port now taken by another process fails naming the setting, and that setting moves it', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-ports-taken-'));
  const squatters: net.Server[] = [];
  try {
    const stack = await startEmbeddedStack({ dataDir, env: {} });
    const first = portsOf(dataDir);
    await stack.stop();

    squatters.push(await occupy(first.blob));
    await assert.rejects(startEmbeddedStack({ dataDir, env: {} }), (e: Error) => {
      assert.ok(e instanceof PortInUseError, e.stack);
      assert.match(e.message, new RegExp(`Port ${first.blob} `));
      assert.match(e.message, /Blob service/);
      assert.match(e.message, /SLUICE_BLOB_PORT/);
      assert.match(e.message, /ports\.json/);
      return true;
    });

    squatters.push(await occupy(first.cosmos));
    await assert.rejects(
      startEmbeddedStack({ dataDir, env: { SLUICE_BLOB_PORT: '0' } }),
      (e: Error) => e instanceof PortInUseError && /SLUICE_COSMOS_PORT/.test(e.message),
    );

    const moved = await startEmbeddedStack({
      dataDir,
      env: { SLUICE_BLOB_PORT: '0', SLUICE_COSMOS_PORT: '0' },
    });
    try {
      const now = portsOf(dataDir);
      assert.notEqual(now.blob, first.blob);
      assert.notEqual(now.cosmos, first.cosmos);
      assert.equal(now.queue, first.queue);
      assert.equal(now.table, first.table);
      // The new ports are the folder's ports from now on.
      assert.deepEqual(rememberedPorts(dataDir), now);
    } finally {
      await moved.stop();
    }
    await assert.rejects(
      startEmbeddedStack({ dataDir, env: { SLUICE_QUEUE_PORT: 'ten' } }),
      /SLUICE_QUEUE_PORT must be a TCP port/,
    );
  } finally {
    for (const s of squatters) s.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
