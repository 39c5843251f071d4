import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import type { SluiceProcess } from '../support/sluice';

/** A queue on the scenario's own stack. */
export function queue(sluice: SluiceProcess, name: string): QueueClient {
  return QueueServiceClient.fromConnectionString(sluice.env.AzureWebJobsStorage!).getQueueClient(name);
}

/**
 * Sends a message as plain text: JSON text for an object (host.json `messageEncoding: none`, the simple
 * path), a string as it is.
 */
export async function sendJson(sluice: SluiceProcess, name: string, body: unknown): Promise<string> {
  return sendText(sluice, name, typeof body === 'string' ? body : JSON.stringify(body));
}

/** Sends base64 of the JSON, as the Azure SDKs' base64 encode policies and `base64 -w0` senders do. */
export async function sendBase64(sluice: SluiceProcess, name: string, body: unknown): Promise<string> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return sendText(sluice, name, Buffer.from(text, 'utf8').toString('base64'));
}

async function sendText(sluice: SluiceProcess, name: string, text: string): Promise<string> {
  const q = queue(sluice, name);
  await q.createIfNotExists();
  return (await q.sendMessage(text)).messageId;
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Every message now in a queue (peeked, not removed), parsed when JSON. Bodies may be plain JSON (what this
 * app writes under `messageEncoding: none`) or base64 of JSON (writers that still encode): both are read.
 */
export async function peekAll(sluice: SluiceProcess, name: string): Promise<any[]> {
  const q = queue(sluice, name);
  if (!(await q.exists())) return [];
  const r = await q.peekMessages({ numberOfMessages: 32 });
  return r.peekedMessageItems.map((m) => {
    const raw = m.messageText;
    const text =
      raw.length % 4 === 0 && BASE64_RE.test(raw) ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  });
}

/** The raw text of every message now in a queue (peeked), as a reader without decoding sees it. */
export async function peekRaw(sluice: SluiceProcess, name: string): Promise<string[]> {
  const q = queue(sluice, name);
  if (!(await q.exists())) return [];
  const r = await q.peekMessages({ numberOfMessages: 32 });
  return r.peekedMessageItems.map((m) => m.messageText);
}
