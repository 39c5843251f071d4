/** Reads a job's step log from blob storage (where the runner streams it, whatever the backend). */
import { getClients } from '../../lib/azure/clients';
import type { JobSpec } from '../../lib/compute/job';
import { logBlobName, LOGS_CONTAINER } from '../../lib/compute/log-stream';

export async function readLogText(spec: JobSpec): Promise<string> {
  const blob = getClients()
    .blob.getContainerClient(LOGS_CONTAINER)
    .getBlobClient(logBlobName(spec.runId, spec.stepName, spec.attempt, spec.batch));
  return (await blob.downloadToBuffer()).toString('utf8');
}
