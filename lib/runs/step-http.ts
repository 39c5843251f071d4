import { HttpResponse, type HttpResponseInit } from '@azure/functions';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { batchLogPrefix, isLogComplete, logBlobName, LOGS_CONTAINER } from '../compute/log-stream';
import { getClients } from '../azure/clients';
import { fileInDirectory, openFile, readManifest } from '../data/cas';
import { asProblems } from '../data/errors';
import { invalid, notFound } from '../errors/problem';
import { httpHandler, json } from '../http/handler';
import { getClock } from '../host/clock';
import { closest } from '../pipelines/suggest';
import { mustReadRun, runIdOf } from './http';
import { TERMINAL, type StepStatus } from './plan';
import { shardLogs, shardedStepLogs } from './shard-logs';
import { readRun, type RunDoc, type StepRecord } from './store';

/** HTTP handlers for one step's outputs and logs; registered in functions/runs.ts. */

function stepOf(doc: RunDoc, name: string): StepRecord {
  const s = doc.steps[name];
  if (!s) {
    const c = closest(name, Object.keys(doc.steps));
    throw notFound(
      `Run ${doc.runId} has no step "${name}"${c ? `; did you mean "${c}"?` : ''} Its steps: ${Object.keys(doc.steps).join(', ')}.`,
    );
  }
  return s;
}

/** GET /api/runs/{id}/steps/{step}/outputs/{output}[?path=] */
export const stepOutputHandler = httpHandler(async (req) => {
  const doc = await mustReadRun(runIdOf(req));
  const s = stepOf(doc, req.params.step ?? '');
  const name = req.params.output ?? '';
  const out = s.outputs?.[name];
  if (!out) {
    const have = Object.keys(s.outputs ?? {});
    throw notFound(
      `Step ${s.name} of run ${doc.runId} has no output "${name}"` +
        (have.length
          ? `; its outputs are ${have.join(', ')}.`
          : ` (the step is ${s.status} and has no outputs yet).`),
    );
  }
  const path = req.query.get('path');
  return asProblems(async () => {
    if (out.type === 'directory' && !path)
      return json(200, { hash: out.hash, type: 'directory', files: await readManifest(out.hash) });
    if (out.type === 'file' && path)
      throw invalid([
        {
          pointer: '/query/path',
          message: `output "${name}" is a file; ?path= applies to directory outputs`,
        },
      ]);
    const hash = out.type === 'directory' ? (await fileInDirectory(out.hash, path!)).hash : out.hash;
    const f = await openFile(hash);
    return new HttpResponse({
      status: 200,
      body: f.stream as never,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(f.size),
        etag: `"${hash}"`,
      },
    }) as unknown as HttpResponseInit;
  }, '/query/path');
});

/** GET /api/runs/{id}/steps/{step}/logs[?follow=true][&batch=N][&attempt=N] */
export const stepLogsHandler = httpHandler(async (req) => {
  const runId = runIdOf(req);
  const doc = await mustReadRun(runId);
  let s = stepOf(doc, req.params.step ?? '');
  // A Reused step shows the log of the execution it reused.
  let source = { runId, step: s.name, attempt: s.attempts, batches: s.batches?.total };
  if (s.status === 'Reused' && s.reusedFrom) {
    const src = await readRun(s.reusedFrom.runId);
    const ss = src?.steps[s.reusedFrom.step];
    if (ss)
      source = {
        runId: s.reusedFrom.runId,
        step: s.reusedFrom.step,
        attempt: ss.attempts,
        batches: ss.batches?.total,
      };
  }
  const follow = req.query.get('follow') === 'true' || req.query.get('follow') === '1';
  const problems: Array<{ pointer: string; message: string }> = [];
  const batchText = req.query.get('batch');
  let batch: number | undefined;
  if (batchText !== null) {
    const b = Number(batchText);
    if (!source.batches)
      problems.push({
        pointer: '/query/batch',
        message: `step "${s.name}" runs no mini-batches or trials; leave out batch`,
      });
    else if (!Number.isInteger(b) || b < 0 || b >= source.batches)
      problems.push({ pointer: '/query/batch', message: `batch is from 0 to ${source.batches - 1}` });
    else batch = b;
  }
  if (source.batches && batchText === null && follow)
    problems.push({
      pointer: '/query/follow',
      message: `step "${s.name}" runs ${source.batches} mini-batches or trials: follow one with batch=N`,
    });
  const logs = getClients().blob.getContainerClient(LOGS_CONTAINER);
  // A parallelRun whose mini-batches ran in shards: each mini-batch's log is a section of its shard's.
  const shards = source.batches ? await shardLogs(logs, source.runId, source.step) : [];
  if (shards.length) {
    const stepName = s.name;
    const res = await shardedStepLogs(
      logs,
      shards,
      {
        runId: source.runId,
        step: source.step,
        batch,
        attemptText: req.query.get('attempt'),
        follow,
        problems,
        ended: async () =>
          source.runId !== runId ||
          TERMINAL.has((await readRun(runId).catch(() => undefined))?.steps[stepName]?.status as StepStatus),
      },
      (p) => {
        throw invalid(p);
      },
      OVERVIEW_BATCHES,
    );
    return typeof res.body === 'string'
      ? res
      : (new HttpResponse({
          status: 200,
          headers: res.headers,
          body: res.body,
        }) as unknown as HttpResponseInit);
  }
  // A batch's attempts are its own: the latest is the newest log it wrote.
  if (batch !== undefined) {
    source.attempt = 0;
    for await (const b of logs.listBlobsFlat({ prefix: batchLogPrefix(source.runId, source.step, batch) })) {
      const a = Number(/(\d+)\.log$/.exec(b.name)?.[1] ?? 0);
      source.attempt = Math.max(source.attempt, a);
    }
  }
  const attemptText = req.query.get('attempt');
  if (attemptText !== null) {
    const a = Number(attemptText);
    if (batchText !== null && batch === undefined) {
      // The batch is wrong (reported above): its attempts are unknown, so check only the form.
      if (!Number.isInteger(a) || a < 1)
        problems.push({ pointer: '/query/attempt', message: 'attempt is an integer from 1' });
    } else if (source.batches && batchText === null)
      problems.push({
        pointer: '/query/attempt',
        message: `step "${s.name}" runs mini-batches or trials, each with its own attempts: add batch=N`,
      });
    else if (!Number.isInteger(a) || a < 1 || a > Math.max(1, source.attempt))
      problems.push({
        pointer: '/query/attempt',
        message: `attempt is from 1 to ${Math.max(1, source.attempt)}`,
      });
    else source.attempt = a;
  }
  if (problems.length) throw invalid(problems);
  if (source.batches && batch === undefined)
    return {
      status: 200,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'x-sluice-log-source': `${source.runId}/${source.step}/batches`,
      },
      body: await batchLogsOverview(logs, source.runId, source.step),
    };
  const blob = logs.getBlobClient(logBlobName(source.runId, source.step, Math.max(1, source.attempt), batch));
  const header = {
    'content-type': 'text/plain; charset=utf-8',
    'x-sluice-log-source': `${source.runId}/${source.step}/${batch === undefined ? '' : `batch-${batch}/`}${source.attempt}`,
  };
  if (!follow) {
    if (source.attempt === 0) return { status: 200, headers: header, body: '' };
    if (source.runId === runId && batch === undefined) await untilLogWhole(blob, s);
    try {
      const buf = await blob.downloadToBuffer();
      return { status: 200, headers: header, body: buf.toString('utf8') };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404)
        return { status: 200, headers: header, body: '' };
      throw e;
    }
  }
  const stepName = s.name;
  let offset = 0;
  let done = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (done) return controller.close();
        const props = await blob.getProperties().catch(() => undefined);
        const size = props?.contentLength ?? 0;
        if (size > offset) {
          const buf = await blob.downloadToBuffer(offset, size - offset);
          offset += buf.length;
          controller.enqueue(new Uint8Array(buf));
          return;
        }
        const now = await readRun(runId).catch(() => undefined);
        s = now?.steps[stepName] ?? s;
        if (TERMINAL.has(s.status as StepStatus) && source.runId === runId) {
          // The step's end may overtake its log's last write: read once more when the log is whole.
          await untilLogWhole(blob, s);
          const last = await blob.getProperties().catch(() => undefined);
          if ((last?.contentLength ?? 0) > offset) continue;
          done = true;
          return controller.close();
        }
        if (source.runId !== runId) return controller.close();
        await new Promise((r) => setTimeout(r, 500));
      }
    },
  });
  return new HttpResponse({ status: 200, headers: header, body: stream }) as unknown as HttpResponseInit;
});

/**
 * Waits (briefly) until a step's log is whole. The agent sends a succeeded step's completion event while
 * the log's last write is still in flight (one storage round trip less per step), so a step that ended a
 * moment ago may have its last lines on the way. Logs of steps that ended long ago (or whose agent died)
 * are taken as they are.
 */
async function untilLogWhole(blob: BlobClient, s: StepRecord): Promise<void> {
  if (!TERMINAL.has(s.status as StepStatus) || !s.finishedAt) return;
  if (getClock().now() - Date.parse(s.finishedAt) > LOG_SETTLE_MS) return;
  const deadline = Date.now() + LOG_SETTLE_MS;
  while (Date.now() < deadline) {
    const p = await blob.getProperties().catch(() => undefined);
    if (isLogComplete(p?.metadata)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const LOG_SETTLE_MS = 5000;

/** Batches shown in a step's log overview; the others by `?batch=N`. */
const OVERVIEW_BATCHES = 100;

/**
 * Every batch's latest log, one after another under `==> batch N, attempt A <==` headers (as `tail` shows
 * several files), for a mini-batch or trial step asked for its log without `batch`.
 */
async function batchLogsOverview(logs: ContainerClient, runId: string, step: string): Promise<string> {
  const latest = new Map<number, number>();
  for await (const b of logs.listBlobsFlat({ prefix: `${runId}/${step}/batch-` })) {
    const m = /\/batch-(\d+)\/(\d+)\.log$/.exec(b.name);
    if (!m) continue;
    const [batch, attempt] = [Number(m[1]), Number(m[2])];
    latest.set(batch, Math.max(latest.get(batch) ?? 0, attempt));
  }
  const shown = [...latest.entries()].sort((x, y) => x[0] - y[0]).slice(0, OVERVIEW_BATCHES);
  const parts = await Promise.all(
    shown.map(async ([batch, attempt]) => {
      const text = await logs
        .getBlobClient(logBlobName(runId, step, attempt, batch))
        .downloadToBuffer()
        .then((b) => b.toString('utf8'))
        .catch(() => '');
      return `==> batch ${batch}, attempt ${attempt} <==\n${text}${text && !text.endsWith('\n') ? '\n' : ''}`;
    }),
  );
  if (latest.size > shown.length)
    parts.push(`==> ${latest.size - shown.length} more batches: ask for one with ?batch=N <==\n`);
  return parts.join('');
}
