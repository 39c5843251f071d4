/**
 * Queue output bindings (`output.storageQueue`): one message per value (per element of an array), in
 * the queue's encoding; a send wakes this host's listener of that queue at once.
 */
import { queueNameOf, type QueueClients } from './queue-clients';
import { encodeMessage } from './queue-messages';
import type { QueueSettings } from './queue-settings';
import type { BindingInfo } from './types';

/** Writes queue output bindings (`output.storageQueue`) from the invocation model's typed data. */
export async function writeQueueOutput(
  clients: QueueClients,
  settings: QueueSettings,
  binding: BindingInfo,
  functionName: string,
  data: Record<string, unknown>,
): Promise<void> {
  const client = clients.queue(binding.connection as string | undefined, queueNameOf(binding, functionName));
  await clients.ensure(client);
  const messages: Array<string | Buffer> = [];
  if (typeof data.string === 'string') messages.push(data.string);
  else if (typeof data.json === 'string') {
    const v = JSON.parse(data.json) as unknown;
    // An array sends one message per element, as the Functions queue binding does.
    if (Array.isArray(v)) for (const x of v) messages.push(typeof x === 'string' ? x : JSON.stringify(x));
    else messages.push(data.json);
  } else if (data.bytes) messages.push(Buffer.from(data.bytes as Uint8Array));
  else if (typeof data.int === 'number' || typeof data.double === 'number')
    messages.push(String(data.int ?? data.double));
  else if (data.collectionString)
    messages.push(...((data.collectionString as { string: string[] }).string ?? []));
  for (const m of messages) await client.sendMessage(encodeMessage(m, settings.messageEncoding));
  if (messages.length) clients.notify(client.url);
}
