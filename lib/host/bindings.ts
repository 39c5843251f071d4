/**
 * The host's own non-trigger bindings: where each output value goes after a successful invocation
 * (queue messages, blobs) and which extension or host reader fills each input binding. A binding type
 * the local host does not support is warned about, never silently dropped.
 */
import type { BlobBindings } from './blobs';
import type { FunctionEntry, OutputWriter } from './invoker';
import type { QueueClients } from './queue-clients';
import { writeQueueOutput } from './queue-output';
import type { QueueSettings } from './queue-settings';
import type { HostExtension, HostLogger } from './types';

/** The invoker's output writer: blobs and queue messages; other output types are dropped with one warning. */
export function outputWriter(
  blobs: BlobBindings,
  queueClients: QueueClients,
  qSettings: QueueSettings,
  log: HostLogger,
): OutputWriter {
  let outputQueueWarned = false;
  return async (entry, outputs, data) => {
    for (const o of outputs) {
      const what = `Function "${entry.fn.name}" output "${o.name}"`;
      if (o.binding.type.toLowerCase() === 'blob') {
        await blobs.write(o.binding, o.data, data(), what);
        continue;
      }
      if (o.binding.type.toLowerCase() !== 'queue') {
        if (!outputQueueWarned)
          log.warn(`Output binding type '${o.binding.type}' is not supported; dropped.`);
        outputQueueWarned = true;
        continue;
      }
      await writeQueueOutput(queueClients, qSettings, o.binding, entry.fn.name, o.data);
    }
  };
}

/** Fills each entry's input bindings: blobs from the host, the rest from the first started extension that serves them. */
export function wireInputs(
  entries: Iterable<FunctionEntry>,
  started: HostExtension[],
  blobs: BlobBindings,
  log: HostLogger,
): void {
  for (const entry of entries) {
    for (const [name, b] of Object.entries(entry.fn.bindings)) {
      if (b.direction !== 'in' || name === entry.fn.triggerName) continue;
      if (b.type.toLowerCase() === 'blob') {
        const what = `Function "${entry.fn.name}" input "${name}"`;
        entry.hostInputs.push({ name, read: (data) => blobs.read(b, data, what) });
        continue;
      }
      const ext = started.find((e) => e.inputBindingValue && e.inputBindingValue(b) !== undefined);
      if (ext) entry.extensionInputs.push({ name, binding: b, extension: ext });
      else
        log.warn(
          `Function '${entry.fn.name}': input binding type '${b.type}' is not supported by the local host.`,
        );
    }
  }
}
