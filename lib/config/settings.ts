/**
 * Every setting Sluice reads, in one place. Values come from the environment; on Azure that is the
 * function app's application settings, locally the host loads `local.settings.json` `Values` first.
 * `local.settings.example.json` lists each of them.
 */
export interface Settings {
  /** Azure Storage connection string (blobs, queues, tables). Setting `AzureWebJobsStorage`. */
  storageConnectionString: string;
  /** Cosmos DB account endpoint. Setting `COSMOS_ENDPOINT`. */
  cosmosEndpoint: string;
  /** Cosmos DB account key. Setting `COSMOS_KEY`. Never logged. */
  cosmosKey: string;
  /** Cosmos DB database name. Setting `COSMOS_DATABASE`. @default "sluice" */
  cosmosDatabase: string;
  /** Folder for the embedded stack's data. Setting `SLUICE_DATA_DIR`. @default ".sluice" */
  dataDir: string;
  /** Salt mixed into every step cache key; bump to invalidate all reuse. Setting `SLUICE_CACHE_VERSION`. @default "1" */
  cacheVersion: string;
}

/** The storage connection string Azurite documents for its well-known development account. */
export const DEV_STORAGE = 'UseDevelopmentStorage=true';

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    storageConnectionString: env.AzureWebJobsStorage || DEV_STORAGE,
    cosmosEndpoint: env.COSMOS_ENDPOINT || 'http://127.0.0.1:8081',
    cosmosKey: env.COSMOS_KEY || 'local',
    cosmosDatabase: env.COSMOS_DATABASE || 'sluice',
    dataDir: env.SLUICE_DATA_DIR || '.sluice',
    cacheVersion: env.SLUICE_CACHE_VERSION || '1',
  };
}

/** True when the connection string names the local emulator rather than a real storage account. */
export function isLocalStorage(connectionString: string): boolean {
  return (
    connectionString === DEV_STORAGE ||
    /UseDevelopmentStorage=true/i.test(connectionString) ||
    /(Blob|Queue|Table)Endpoint=https?:\/\/(127\.0\.0\.1|localhost|\[::1\])/i.test(connectionString)
  );
}

/** True when the Cosmos endpoint is on this machine (the embedded server), not a real account. */
export function isLocalCosmos(endpoint: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/i.test(endpoint);
}
