// Puts a run message on the sluice-runs queue, base64-encoded as host.json's messageEncoding says.
//   node examples/batch-scoring/send-message.mjs [message.json] [queue]
// Storage: $AzureWebJobsStorage, else the running local stack's settings in $SLUICE_DATA_DIR/stack.json
// (default .sluice/stack.json, written by `npm start`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueClient } from '@azure/storage-queue';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? path.join(here, 'message.json');
const queueName = process.argv[3] ?? 'sluice-runs';

function connectionString() {
  if (process.env.AzureWebJobsStorage) return process.env.AzureWebJobsStorage;
  const stackFile = path.join(process.env.SLUICE_DATA_DIR ?? '.sluice', 'stack.json');
  try {
    return JSON.parse(readFileSync(stackFile, 'utf8')).env.AzureWebJobsStorage;
  } catch {
    console.error(
      `No storage settings: set AzureWebJobsStorage, or start Sluice (npm start) so ${stackFile} exists.`,
    );
    process.exit(2);
  }
}

const text = readFileSync(file, 'utf8');
JSON.parse(text); // fail here, with the parser's message, rather than in the poison queue
const queue = new QueueClient(connectionString(), queueName);
await queue.createIfNotExists();
const r = await queue.sendMessage(Buffer.from(text, 'utf8').toString('base64'));
console.log(`sent ${path.relative(process.cwd(), file)} to ${queueName} as message ${r.messageId}`);
