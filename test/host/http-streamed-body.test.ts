/**
 * Behaviour: a ReadableStream response body streams to the client as it is produced, and a client
 * that goes away cancels the function's stream (what `?follow=true` log tails rely on).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { RunningHost } from '../../lib/host/index';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, eventually, events, startBasicHost } from './support/host';

let storage: TestStorage;
let host: RunningHost;
before(async () => {
  storage = await startTestStorage();
  host = await startBasicHost(storage, captureLog());
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

test('a finite stream arrives whole, chunked', async () => {
  const res = await fetch(`${host.baseUrl}/api/stream`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('transfer-encoding'), 'chunked');
  assert.equal(await res.text(), 'line 1\nline 2\nline 3\n');
});

test('a followed stream delivers lines before it ends and is cancelled when the client leaves', async () => {
  const firstLines = await new Promise<string>((resolve, reject) => {
    const req = request(`${host.baseUrl}/api/stream?follow=true`, (res) => {
      let got = '';
      res.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.split('\n').length > 3) {
          req.destroy();
          resolve(got);
        }
      });
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
  assert.match(firstLines, /^line 1\nline 2\nline 3\n/);
  const cancelled = await eventually(
    async () => (await events(host, 'stream-cancelled'))[0],
    'the stream to be cancelled',
  );
  assert.ok((cancelled.lines as number) >= 3);
});
