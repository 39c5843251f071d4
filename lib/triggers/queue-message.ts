import { z } from 'zod';
import { pointer, type FieldProblem } from '../errors/problem';

/**
 * The `sluice-runs` queue message: what it may hold and how it may be encoded. Pure: no I/O.
 *
 * Accepted encodings. host.json sets `messageEncoding: none`, so the host hands over the message text as sent
 * (JSON text arrives parsed, as the Functions worker does); the handler decodes the rest itself:
 * - a JSON object (plain JSON text, parsed by the host);
 * - a string holding JSON text (JSON serialised twice);
 * - a string holding base64 of JSON text (the Azure SDKs' base64 encode policies, `base64 -w0`), also
 *   base64 of base64 (a sender and its SDK each encoding once), up to {@link MAX_DECODING_DEPTH} layers.
 */

export const RUNS_QUEUE = 'sluice-runs';
export const RUNS_POISON_QUEUE = `${RUNS_QUEUE}-poison`;

const NAME_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** Azure Storage queue names: 3–63 lowercase letters, digits and single hyphens. */
export const QUEUE_NAME_RE = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
const DATASET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** `step.output`: step and output names are identifiers without dots. */
export const OUTPUT_KEY_RE = /^([A-Za-z_][A-Za-z0-9_-]{0,63})\.([A-Za-z_][A-Za-z0-9_-]{0,63})$/;

export const OutputDeliverySchema = z.strictObject({
  dataset: z
    .string()
    .regex(
      DATASET_NAME_RE,
      'a dataset name: 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit',
    )
    .meta({ description: 'Register the output as the next version of this dataset when the run completes.' }),
});

export const QueueRunMessageSchema = z.strictObject({
  pipeline: z.string().regex(NAME_RE, 'a pipeline name: lowercase letters, digits and "-", 3–63 characters'),
  version: z.int().min(1).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z.record(z.string(), z.string()).optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  replyTo: z
    .string()
    .regex(QUEUE_NAME_RE, 'a storage queue name: 3–63 lowercase letters, digits and single hyphens')
    .optional()
    .meta({ description: 'A queue that receives a summary of the run when it ends.' }),
  outputs: z
    .record(z.string().regex(OUTPUT_KEY_RE, 'an output is named "step.output"'), OutputDeliverySchema)
    .optional()
    .meta({ description: 'Where step outputs land when the run completes, by "step.output".' }),
});

export type QueueRunMessage = z.output<typeof QueueRunMessageSchema>;

export type ParsedMessage =
  { ok: true; message: QueueRunMessage } | { ok: false; problems: FieldProblem[]; text: string };

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
/** What a rejection keeps of the message text. */
export const MAX_KEPT_TEXT = 4096;

/** Text of whatever the host delivered, for the poison record. */
export function messageText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * How many layers of encoding (base64 or JSON string) one message may carry. Bounded so a crafted message
 * cannot make decoding loop; real senders use at most two.
 */
export const MAX_DECODING_DEPTH = 4;

function parseText(text: string, depth = 0): { value?: unknown; problem?: string } {
  const t = text.trim();
  if (t === '') return { problem: 'The message is empty; send a JSON object such as {"pipeline": "churn"}.' };
  if (depth >= MAX_DECODING_DEPTH)
    return {
      problem: `The message is encoded more than ${MAX_DECODING_DEPTH} times over (base64 or JSON strings); send the JSON object itself, or base64 of it once.`,
    };
  if (t.startsWith('{') || t.startsWith('[') || t.startsWith('"')) {
    try {
      const v = JSON.parse(t) as unknown;
      // A JSON string may itself hold the JSON (a sender that serialised twice).
      return typeof v === 'string' ? parseText(v, depth + 1) : { value: v };
    } catch (e) {
      return { problem: `The message is not valid JSON: ${(e as Error).message}` };
    }
  }
  const compact = t.replace(/\s+/g, '');
  if (compact.length % 4 === 0 && BASE64_RE.test(compact)) {
    const d = Buffer.from(compact, 'base64').toString('utf8').trim();
    const inner = d.replace(/\s+/g, '');
    // JSON inside, or base64 again (encoded twice): anything else is not a message.
    if (d.startsWith('{') || d.startsWith('"') || (inner.length % 4 === 0 && BASE64_RE.test(inner)))
      return parseText(d, depth + 1);
  }
  return {
    problem:
      'The message is neither JSON nor base64 of JSON; send a JSON object such as ' +
      '{"pipeline": "churn", "parameters": {"epochs": 3}}.',
  };
}

/** Decodes and validates a message, returning every problem at once. Never throws. */
export function parseQueueMessage(value: unknown): ParsedMessage {
  const text = messageText(value).slice(0, MAX_KEPT_TEXT);
  let v: unknown = value;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const r = parseText(messageText(value));
    if (r.problem) return { ok: false, problems: [{ pointer: '', message: r.problem }], text };
    v = r.value;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return {
      ok: false,
      problems: [{ pointer: '', message: 'A run message is a JSON object with at least "pipeline".' }],
      text,
    };
  const r = QueueRunMessageSchema.safeParse(v);
  if (r.success) return { ok: true, message: r.data };
  const problems: FieldProblem[] = [];
  for (const i of r.error.issues) {
    const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (i.code === 'unrecognized_keys')
      for (const k of i.keys)
        problems.push({
          pointer: pointer([...path, k]),
          message: `"${k}" is not a run message field; use pipeline, version, parameters, inputs, idempotencyKey, tags, replyTo, outputs.`,
        });
    else problems.push({ pointer: pointer(path), message: i.message });
  }
  return { ok: false, problems, text };
}

/** The idempotency key of a message: the sender's, or one derived from the message id (redelivery). */
export function messageKey(message: QueueRunMessage, messageId: string): string {
  return message.idempotencyKey ?? `queue:${messageId}`;
}
