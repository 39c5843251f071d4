// Puts a run message on the sluice-runs queue as plain JSON text (host.json `messageEncoding: none`).
//   node examples/batch-scoring/send-message.mjs [--base64] [message.json] [queue]
// --base64 sends base64 of the JSON instead, as senders with a base64 encode policy do; it starts a run too.
// Storage: $AzureWebJobsStorage, else the running local stack's settings in $SLUICE_DATA_DIR/stack.json
// (default .sluice/stack.json, written by `npm start`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueClient } from '@azure/storage-queue';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const base64 = args.includes('--base64');
const [fileArg, queueArg] = args.filter((a) => a !== '--base64');
const file = fileArg ?? path.join(here, 'message.json');
const queueName = queueArg ?? 'sluice-runs';

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
const r = await queue.sendMessage(base64 ? Buffer.from(text, 'utf8').toString('base64') : text);
console.log(
  `sent ${path.relative(process.cwd(), file)} to ${queueName}${base64 ? ' (base64)' : ''} as message ${r.messageId}`,
);
