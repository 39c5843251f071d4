import type { InvocationContext } from '@azure/functions';
import { getClients } from '../azure/clients';
import { pointer, ProblemError, type FieldProblem } from '../errors/problem';
import { getClock } from '../host/clock';
import { httpHandler, json } from '../http/handler';
import { getPipelineVersion } from '../pipelines/store';
import {
  messageKey,
  OUTPUT_KEY_RE,
  parseQueueMessage,
  RUNS_POISON_QUEUE,
  RUNS_QUEUE,
  type QueueRunMessage,
} from './queue-message';
import { runsPortFor, type RunsPort } from './runs-port';
import { listEntries, writeEntry, type TriggerSource } from './trigger-log';

/**
 * Queue-triggered runs: each valid message on `sluice-runs` starts one run.
 * - Duplicates: the run's idempotency key is the message's `idempotencyKey`, or `queue:<messageId>`,
 *   so a redelivered message (same id) or a resent one (same key) finds the run the first one started.
 * - Invalid messages are not retried: retrying cannot fix them. The handler records the problems in the
 *   trigger log, sends `{message, problems, messageId, rejectedAt}` to `sluice-runs-poison` itself and
 *   returns, so the host deletes the original. Only faults retrying can fix (storage, Cosmos) throw and
 *   use the host's retries.
 */

export const QUEUE_SOURCE: TriggerSource = `queue:${RUNS_QUEUE}`;

const iso = (t: number): string => new Date(t).toISOString();

/** A start failure that is about the message itself (unknown pipeline, bad parameter, disabled pipeline). */
function isMessageProblem(e: unknown): e is ProblemError {
  return e instanceof ProblemError && e.status >= 400 && e.status < 500;
}

export interface QueueRunOutcome {
  accepted: boolean;
  runId?: string;
  created?: boolean;
  problems?: FieldProblem[];
}

/** The queue trigger's handler (functions/queue-runs.ts). */
export async function onRunMessage(message: unknown, ctx: InvocationContext): Promise<void> {
  await handleRunMessage(message, ctx);
}

export async function handleRunMessage(
  value: unknown,
  ctx: InvocationContext,
  runs: RunsPort = runsPortFor(ctx),
): Promise<QueueRunOutcome> {
  const messageId = String(ctx.triggerMetadata?.id ?? ctx.invocationId);
  const parsed = parseQueueMessage(value);
  if (!parsed.ok) return reject(messageId, parsed.text, parsed.problems, ctx);
  const m = parsed.message;
  const text = JSON.stringify(m);

  if (m.outputs) {
    const problems = await outputProblems(m);
    if (problems.length) return reject(messageId, text, problems, ctx);
  }
  const key = messageKey(m, messageId);
  let result;
  try {
    result = await runs.startRun(
      {
        pipeline: m.pipeline,
        ...(m.version !== undefined ? { version: m.version } : {}),
        ...(m.parameters ? { parameters: m.parameters } : {}),
        ...(m.inputs ? { inputs: m.inputs } : {}),
        ...(m.tags ? { tags: m.tags } : {}),
        idempotencyKey: key,
      },
      {
        type: 'queue',
        queue: RUNS_QUEUE,
        messageId,
        idempotencyKey: key,
        ...(m.replyTo ? { replyTo: m.replyTo } : {}),
      },
    );
  } catch (e) {
    if (!isMessageProblem(e)) throw e;
    const problems = e.errors?.length ? e.errors : [{ pointer: '', message: e.message }];
    return reject(messageId, text, problems, ctx);
  }
  const at = iso(getClock().now());
  if (m.outputs)
    // Keyed by run: a duplicate message finds the same delivery instead of adding a second one.
    await writeEntry({
      id: `delivery:${result.runId}`,
      source: QUEUE_SOURCE,
      at,
      decision: 'awaitingRun',
      runId: result.runId,
      messageId,
      idempotencyKey: key,
      outputs: m.outputs,
    });
  ctx.log(
    `${RUNS_QUEUE} message ${messageId}: ${result.created ? 'started' : 'already started'} run ${result.runId} (key ${key})`,
  );
  return { accepted: true, runId: result.runId, created: result.created };
}

/** `outputs` must name outputs the pipeline version has (checked now, not when the run ends). */
async function outputProblems(m: QueueRunMessage): Promise<FieldProblem[]> {
  let def;
  try {
    def = (await getPipelineVersion(m.pipeline, m.version)).definition;
  } catch (e) {
    if (isMessageProblem(e)) return [{ pointer: '/pipeline', message: e.message }];
    throw e;
  }
  const problems: FieldProblem[] = [];
  for (const k of Object.keys(m.outputs ?? {})) {
    const [, step, output] = OUTPUT_KEY_RE.exec(k)!;
    const s = def.steps[step!] as { outputs?: Record<string, unknown> } | undefined;
    if (!s)
      problems.push({
        pointer: pointer(['outputs', k]),
        message: `pipeline ${m.pipeline} has no step "${step}"; its steps are ${Object.keys(def.steps).join(', ')}.`,
      });
    else if (!s.outputs?.[output!])
      problems.push({
        pointer: pointer(['outputs', k]),
        message: `step "${step}" has no output "${output}"; its outputs are ${Object.keys(s.outputs ?? {}).join(', ') || 'none'}.`,
      });
  }
  return problems;
}

async function reject(
  messageId: string,
  text: string,
  problems: FieldProblem[],
  ctx: InvocationContext,
): Promise<QueueRunOutcome> {
  const at = iso(getClock().now());
  await writeEntry({
    id: `rejected:${messageId}`,
    source: QUEUE_SOURCE,
    at,
    decision: 'rejected',
    messageId,
    message: text,
    problems,
    reason: problems.map((p) => (p.pointer ? `${p.pointer}: ${p.message}` : p.message)).join('; '),
  });
  const poison = getClients().queue.getQueueClient(RUNS_POISON_QUEUE);
  await poison.createIfNotExists();
  // Plain JSON text, as host.json `messageEncoding: none` says for every queue of this app.
  await poison.sendMessage(JSON.stringify({ message: text, problems, messageId, rejectedAt: at }));
  ctx.warn(
    `${RUNS_QUEUE} message ${messageId} rejected and moved to ${RUNS_POISON_QUEUE}: ${problems
      .map((p) => `${p.pointer || '(message)'}: ${p.message}`)
      .join('; ')}`,
  );
  return { accepted: false, problems };
}

/** GET /api/triggers/queue/rejections: rejected messages with their problems, newest first. */
export const rejectionsHandler = httpHandler(async (req) => {
  const limitText = req.query.get('limit');
  const limit = limitText === null ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    throw new ProblemError('validation', 'limit must be an integer from 1 to 200.', [
      { pointer: '/limit', message: `limit must be an integer from 1 to 200; got "${limitText}".` },
    ]);
  const token = req.query.get('continuationToken') ?? undefined;
  try {
    return json(
      200,
      await listEntries(QUEUE_SOURCE, {
        limit,
        decision: 'rejected',
        ...(token ? { continuationToken: token } : {}),
      }),
    );
  } catch (e) {
    if ((e as { code?: number }).code === 400)
      throw new ProblemError('validation', 'The continuation token is not valid; start again without it.', [
        { pointer: '/continuationToken', message: 'not a continuation token from this list' },
      ]);
    throw e;
  }
});

/** How many poison messages one GET shows (a storage peek returns at most 32). */
const POISON_PEEK = 32;

/**
 * GET /api/triggers/queue/poison: what is in `sluice-runs-poison` now (peeked, not removed). Messages Sluice
 * rejected carry their problems; messages the host moved there itself (the handler failed maxDequeueCount
 * times on a fault retrying could not fix) show their original text and that reason. Bodies are read as
 * plain text or base64 (written before host.json said `messageEncoding: none`, or by a base64 sender).
 */
export const poisonHandler = httpHandler(async () => {
  const q = getClients().queue.getQueueClient(RUNS_POISON_QUEUE);
  if (!(await q.exists())) return json(200, { items: [] });
  const peeked = await q.peekMessages({ numberOfMessages: POISON_PEEK });
  const items = peeked.peekedMessageItems.map((m) => {
    const text = decodeText(m.messageText);
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // not JSON: shown as text
    }
    const rejected =
      typeof body === 'object' && body !== null && Array.isArray((body as { problems?: unknown }).problems);
    return {
      poisonMessageId: m.messageId,
      insertedOn: m.insertedOn.toISOString(),
      ...(rejected
        ? { rejectedBy: 'sluice', ...(body as Record<string, unknown>) }
        : {
            rejectedBy: 'host',
            message: text.slice(0, 4096),
            reason:
              'moved by the host: the handler failed maxDequeueCount times, e.g. storage or Cosmos unavailable (see the host log for each attempt); send it again once the fault is fixed',
          }),
    };
  });
  return json(200, { items, shown: items.length, limit: POISON_PEEK });
});

/** Base64 text as UTF-8 when it is base64 of text, else the text itself. */
function decodeText(raw: string): string {
  const compact = raw.replace(/\s+/g, '');
  if (compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    const t = Buffer.from(compact, 'base64').toString('utf8');
    if (!t.includes('\uFFFD')) return t;
  }
  return raw;
}

/** GET /api/triggers/queue/deliveries: queue runs with `outputs`, and what landed where. */
export const deliveriesHandler = httpHandler(async (req) => {
  const token = req.query.get('continuationToken') ?? undefined;
  const items = [];
  for (const decision of ['awaitingRun', 'delivered', 'notDelivered'] as const) {
    const page = await listEntries(QUEUE_SOURCE, {
      limit: 200,
      decision,
      ...(token ? { continuationToken: token } : {}),
    });
    items.push(...page.items);
  }
  items.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return json(200, { items });
});
