import https from 'node:https';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import { CosmosClient, type Container, type Database, type PartitionKeyDefinition } from '@azure/cosmos';
import { loadSettings, type Settings } from '../config/settings';

/**
 * The dependencies bundle: every Azure client Sluice uses, built once per process from settings.
 * Swapping the embedded emulators for real Azure resources is a change of settings, not of code.
 */
export interface AzureClients {
  settings: Settings;
  blob: BlobServiceClient;
  queue: QueueServiceClient;
  table(name: string): TableClient;
  cosmos: CosmosClient;
  /** The Sluice database, created on first use. */
  database(): Promise<Database>;
  /** A container in the Sluice database, created on first use with the given partition key path. */
  container(id: string, partitionKey: string | PartitionKeyDefinition): Promise<Container>;
}

let cached: { key: string; clients: AzureClients } | undefined;

let override: AzureClients | undefined;

/**
 * Replaces the clients of this process (undefined restores them): a remote agent that holds no account
 * key uses a bundle built from scoped credentials (lib/compute/scoped-clients.ts), renewed by swapping.
 */
export function useClients(clients: AzureClients | undefined): void {
  override = clients;
}

/** Clients for the current environment; rebuilt when the relevant settings change (tests start stacks). */
export function getClients(settings?: Settings): AzureClients {
  if (override && !settings) return override;
  settings ??= loadSettings();
  const key = `${settings.storageConnectionString}|${settings.cosmosEndpoint}|${settings.cosmosDatabase}`;
  if (cached?.key === key) return cached.clients;
  const clients = createClients(settings);
  cached = { key, clients };
  return clients;
}

export function createClients(settings: Settings): AzureClients {
  const conn = settings.storageConnectionString;
  const insecure =
    /https?:\/\/(127\.0\.0\.1|localhost)/i.test(conn) || /UseDevelopmentStorage=true/i.test(conn);
  const blob = BlobServiceClient.fromConnectionString(conn);
  const queue = QueueServiceClient.fromConnectionString(conn);
  const tables = new Map<string, TableClient>();
  const table = (name: string): TableClient => {
    let t = tables.get(name);
    if (!t) {
      t = TableClient.fromConnectionString(conn, name, { allowInsecureConnection: insecure });
      tables.set(name, t);
    }
    return t;
  };
  const isHttp = settings.cosmosEndpoint.startsWith('http:');
  const cosmos = new CosmosClient({
    endpoint: settings.cosmosEndpoint,
    key: settings.cosmosKey,
    connectionPolicy: { enableEndpointDiscovery: !isHttp },
    // @azure/cosmos allows plain http (the embedded server) only when no agent is passed; its own keeps alive.
    ...(isHttp ? {} : { agent: new https.Agent({ keepAlive: true }) }),
  });
  let db: Promise<Database> | undefined;
  const database = (): Promise<Database> => {
    db ??= cosmos.databases.createIfNotExists({ id: settings.cosmosDatabase }).then((r) => r.database);
    db.catch(() => (db = undefined));
    return db;
  };
  const containers = new Map<string, Promise<Container>>();
  const container = (id: string, partitionKey: string | PartitionKeyDefinition): Promise<Container> => {
    let c = containers.get(id);
    if (!c) {
      const pk = typeof partitionKey === 'string' ? { paths: [partitionKey] } : partitionKey;
      c = database().then((d) =>
        d.containers.createIfNotExists({ id, partitionKey: pk }).then((r) => r.container),
      );
      c.catch(() => containers.delete(id));
      containers.set(id, c);
    }
    return c;
  };
  return { settings, blob, queue, table, cosmos, database, container };
}
