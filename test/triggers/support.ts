import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import type { SluiceProcess } from '../support/sluice';

/** A queue on the scenario's own stack. */
export function queue(sluice: SluiceProcess, name: string): QueueClient {
  return QueueServiceClient.fromConnectionString(sluice.env.AzureWebJobsStorage!).getQueueClient(name);
}

/** Sends a message the way host.json says this app's queues are encoded (base64). */
export async function sendJson(sluice: SluiceProcess, name: string, body: unknown): Promise<string> {
  const q = queue(sluice, name);
  await q.createIfNotExists();
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const r = await q.sendMessage(Buffer.from(text, 'utf8').toString('base64'));
  return r.messageId;
}

/** Every message now in a queue (peeked, not removed), base64-decoded and parsed when JSON. */
export async function peekAll(sluice: SluiceProcess, name: string): Promise<any[]> {
  const q = queue(sluice, name);
  if (!(await q.exists())) return [];
  const r = await q.peekMessages({ numberOfMessages: 32 });
  return r.peekedMessageItems.map((m) => {
    const text = Buffer.from(m.messageText, 'base64').toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  });
}
