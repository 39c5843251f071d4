import type { ContainerClient } from '@azure/storage-blob';
import { isLogComplete, parseShardLogName, shardLogPrefix } from '../compute/log-stream';
import { extractSection, latestSectionAttempt, logPreamble, sectionHeader } from '../compute/shard';

/**
 * Reading a parallelRun step's logs per mini-batch when its mini-batches ran in shards: each shard
 * attempt wrote one blob (`<run>/<step>/shard-<first>-<last>/<attempt>.log`) with one
 * `==> batch N, attempt A <==` section per mini-batch attempt, and `?batch=N` cuts N's section out.
 */

export interface ShardLog {
  name: string;
  first: number;
  last: number;
  /** The shard job's attempt (not the mini-batch's). */
  attempt: number;
}

/** The step's shard logs, the latest attempt of each shard, in mini-batch order. */
export async function shardLogs(logs: ContainerClient, runId: string, step: string): Promise<ShardLog[]> {
  const latest = new Map<number, ShardLog>();
  for await (const b of logs.listBlobsFlat({ prefix: shardLogPrefix(runId, step) })) {
    const p = parseShardLogName(b.name);
    if (!p) continue;
    const seen = latest.get(p.first);
    if (!seen || seen.attempt < p.attempt) latest.set(p.first, { name: b.name, ...p });
  }
  return [...latest.values()].sort((x, y) => x.first - y.first);
}

/** The text of a log blob ('' when it is not there), and whether its writer closed it. */
export async function readLog(
  logs: ContainerClient,
  name: string,
): Promise<{ text: string; whole: boolean }> {
  const blob = logs.getBlobClient(name);
  try {
    const [buf, props] = await Promise.all([blob.downloadToBuffer(), blob.getProperties()]);
    return { text: buf.toString('utf8'), whole: isLogComplete(props.metadata) };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return { text: '', whole: false };
    throw e;
  }
}

/**
 * Mini-batch `batch`'s log in its shard's latest log: its attempt `attempt`, or its latest, after the
 * shard job's own notes.
 */
export async function miniBatchLog(
  logs: ContainerClient,
  shard: ShardLog,
  batch: number,
  attempt?: number,
): Promise<{ text: string; attempt: number; whole: boolean }> {
  const { text, whole } = await readLog(logs, shard.name);
  const latest = latestSectionAttempt(text, batch);
  const a = attempt ?? latest;
  // The job's own notes (its inputs, its environment) come first, as in a job's log.
  return { text: a ? logPreamble(text) + (extractSection(text, batch, a) ?? '') : '', attempt: a, whole };
}

/**
 * The overview of a sharded step's logs: every mini-batch's latest attempt under its
 * `==> batch N, attempt A <==` header (as the per-batch logs showed it), the first `maxBatches` of them.
 */
export async function shardLogsOverview(
  logs: ContainerClient,
  shards: readonly ShardLog[],
  maxBatches: number,
): Promise<string> {
  const shown: ShardLog[] = [];
  let n = 0;
  for (const s of shards) {
    if (n >= maxBatches) break;
    shown.push(s);
    n += s.last - s.first + 1;
  }
  const texts = await Promise.all(shown.map(async (s) => (await readLog(logs, s.name)).text));
  const parts: string[] = [];
  let listed = 0;
  shown.forEach((s, i) => {
    for (let batch = s.first; batch <= s.last && listed < maxBatches; batch++) {
      const attempt = latestSectionAttempt(texts[i]!, batch);
      if (!attempt) continue;
      listed++;
      parts.push(`${sectionHeader(batch, attempt)}\n${extractSection(texts[i]!, batch, attempt) ?? ''}`);
    }
  });
  const total = shards.reduce((k, s) => k + s.last - s.first + 1, 0);
  if (total > listed) parts.push(`==> ${total - listed} more batches: ask for one with ?batch=N <==\n`);
  return parts.join('');
}

/** What the logs endpoint knows when it finds the step's mini-batches ran in shards. */
export interface ShardedLogsRequest {
  runId: string;
  step: string;
  batch: number | undefined;
  /** `?attempt=` as given (null: none). */
  attemptText: string | null;
  follow: boolean;
  /** Problems already found in the query (reported together with these). */
  problems: Array<{ pointer: string; message: string }>;
  /** Whether the step has ended (a follow stops then, once the log is read to its end). */
  ended: () => Promise<boolean>;
}

/**
 * `GET …/logs` for a sharded parallelRun step: `?batch=N[&attempt=A]` is mini-batch N's section (its
 * latest attempt by default) of its shard's latest log, followed with `follow=true` while the shard runs;
 * without `batch`, the overview. The problems found are thrown together (`onProblems`).
 */
export async function shardedStepLogs(
  logs: ContainerClient,
  shards: readonly ShardLog[],
  r: ShardedLogsRequest,
  onProblems: (problems: Array<{ pointer: string; message: string }>) => never,
  overviewBatches: number,
): Promise<{ status: number; headers: Record<string, string>; body: string | ReadableStream<Uint8Array> }> {
  const problems = [...r.problems];
  const shard =
    r.batch === undefined ? undefined : shards.find((s) => s.first <= r.batch! && r.batch! <= s.last);
  let attempt: number | undefined;
  const found = shard && r.batch !== undefined ? await miniBatchLog(logs, shard, r.batch) : undefined;
  if (r.attemptText !== null) {
    const a = Number(r.attemptText);
    const latest = Math.max(1, found?.attempt ?? 0);
    if (r.batch === undefined && !problems.some((p) => p.pointer === '/query/batch'))
      problems.push({
        pointer: '/query/attempt',
        message: `step "${r.step}" runs mini-batches or trials, each with its own attempts: add batch=N`,
      });
    else if (!Number.isInteger(a) || a < 1 || (r.batch !== undefined && a > latest))
      problems.push({
        pointer: '/query/attempt',
        message: r.batch === undefined ? 'attempt is an integer from 1' : `attempt is from 1 to ${latest}`,
      });
    else attempt = a;
  }
  if (problems.length) onProblems(problems);
  const text = { 'content-type': 'text/plain; charset=utf-8' };
  if (r.batch === undefined)
    return {
      status: 200,
      headers: { ...text, 'x-sluice-log-source': `${r.runId}/${r.step}/batches` },
      body: await shardLogsOverview(logs, shards, overviewBatches),
    };
  const batch = r.batch;
  const a = attempt ?? found?.attempt ?? 0;
  const headers = { ...text, 'x-sluice-log-source': `${r.runId}/${r.step}/batch-${batch}/${a}` };
  const read = async (): Promise<{ text: string; whole: boolean }> => {
    const s =
      shard ?? (await shardLogs(logs, r.runId, r.step)).find((x) => x.first <= batch && batch <= x.last);
    if (!s) return { text: '', whole: false };
    const got = await miniBatchLog(logs, s, batch, attempt);
    return { text: got.text, whole: got.whole };
  };
  if (!r.follow) {
    if (attempt === undefined && found) return { status: 200, headers, body: found.text };
    return { status: 200, headers, body: (await read()).text };
  }
  let sent = 0;
  let done = false;
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (done) return controller.close();
        const now = await read();
        if (now.text.length > sent) {
          controller.enqueue(enc.encode(now.text.slice(sent)));
          sent = now.text.length;
          return;
        }
        if (now.whole || (await r.ended())) {
          done = true;
          return controller.close();
        }
        await new Promise((res) => setTimeout(res, 500));
      }
    },
  });
  return { status: 200, headers, body };
}
