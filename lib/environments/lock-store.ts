/**
 * The locks of environments' first builds, shared by every agent through blob storage
 * (`environments/locks/<key>.txt`, written once with If-None-Match: *), so that a rebuild anywhere
 * installs the versions the first build resolved.
 */
import { getClients } from '../azure/clients';
import type { LockStore } from './builder';

const CONTAINER = 'environments';

export function blobLockStore(): LockStore {
  const container = () => getClients().blob.getContainerClient(CONTAINER);
  let created: Promise<unknown> | undefined;
  return {
    async get(key) {
      try {
        const buf = await container().getBlockBlobClient(`locks/${key}.txt`).downloadToBuffer();
        return buf.toString('utf8').split('\n').filter(Boolean);
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) return undefined;
        throw e;
      }
    },
    async put(key, lock) {
      created ??= container().createIfNotExists();
      await created;
      const body = lock.join('\n') + '\n';
      try {
        await container()
          .getBlockBlobClient(`locks/${key}.txt`)
          .upload(body, Buffer.byteLength(body), { conditions: { ifNoneMatch: '*' } });
      } catch (e) {
        const code = (e as { statusCode?: number }).statusCode;
        if (code !== 409 && code !== 412) throw e;
      }
    },
  };
}
