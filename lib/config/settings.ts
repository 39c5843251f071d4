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

export interface SettingDoc {
  name: string;
  /** The default in words or as the literal value; `—` when there is none. */
  default: string;
  /** Who reads it and what it changes. */
  description: string;
  /** Never printed or logged. */
  secret?: boolean;
}

/**
 * The catalogue of every environment setting Sluice reads, for the README, `local.settings.example.json`
 * and a test that fails when code reads a setting missing here. Modules read their own settings where
 * they are used; this list is where they are documented.
 */
const KEPT_PORTS =
  'kept across restarts of the same data folder (in <data dir>/ports.json) so agents and CLIs reconnect; 0 picks a free one.';

export const SETTINGS: readonly SettingDoc[] = [
  {
    name: 'AzureWebJobsStorage',
    default: 'embedded Azurite',
    description:
      'Storage account connection string: Durable Functions state, job queues, blobs (artifacts, snapshots, logs), timer status.',
    secret: true,
  },
  {
    name: 'COSMOS_ENDPOINT',
    default: 'embedded Cosmos server',
    description:
      'Cosmos DB (NoSQL) endpoint. A non-loopback endpoint means a real account: nothing is started.',
  },
  { name: 'COSMOS_KEY', default: 'any (embedded)', description: 'Cosmos DB account key.', secret: true },
  {
    name: 'COSMOS_DATABASE',
    default: 'sluice',
    description: 'Cosmos DB database holding every Sluice container.',
  },
  {
    name: 'SLUICE_DATA_DIR',
    default: '<app>/.sluice',
    description: 'Where the embedded stack keeps Azurite files and the Cosmos snapshot and journal.',
  },
  {
    name: 'SLUICE_LOCK_DIR',
    default: '<data dir>',
    description: 'Where the embedded stack keeps its data-folder locks.',
  },
  {
    name: 'SLUICE_FUNCTION_KEY',
    default: '— (no key required)',
    description:
      'Local host: key required by authLevel function routes (x-functions-key header or code query).',
    secret: true,
  },
  {
    name: 'SLUICE_MASTER_KEY',
    default: '— (no key required)',
    description:
      'Local host: key for authLevel admin routes, /admin/* and the durable management API (/runtime/webhooks/durabletask, /durabletask); also accepted where a function key is.',
    secret: true,
  },
  {
    name: 'SLUICE_MANUAL_CLOCK',
    default: 'off',
    description: 'Tests: 1 makes the host clock manual, moved by POST /admin/host/clock/advance.',
  },
  {
    name: 'WEBSITE_TIME_ZONE',
    default: 'UTC',
    description: 'Time zone of timer-trigger NCRONTAB schedules (as on Azure).',
  },
  {
    name: 'WEBSITE_HOSTNAME',
    default: 'set by the host',
    description: 'Public host:port; durable client links are built from it.',
  },
  {
    name: 'SLUICE_COSMOS_FSYNC_MS',
    default: '100',
    description: 'Embedded Cosmos: how often the journal is synced to disk (the most a power loss can lose).',
  },
  {
    name: 'SLUICE_STORAGE_FSYNC_MS',
    default: '100',
    description:
      'Embedded Azurite: how often its metadata journals are synced to disk (the most a power loss can lose).',
  },
  {
    name: 'SLUICE_BLOB_PORT',
    default: 'the data folder’s last port, else a free one',
    description: `Embedded stack: port of the storage emulator’s Blob service, ${KEPT_PORTS}`,
  },
  {
    name: 'SLUICE_QUEUE_PORT',
    default: 'the data folder’s last port, else a free one',
    description: `Embedded stack: port of the storage emulator’s Queue service, ${KEPT_PORTS}`,
  },
  {
    name: 'SLUICE_TABLE_PORT',
    default: 'the data folder’s last port, else a free one',
    description: `Embedded stack: port of the storage emulator’s Table service, ${KEPT_PORTS}`,
  },
  {
    name: 'SLUICE_COSMOS_PORT',
    default: 'the data folder’s last port, else a free one',
    description: `Embedded stack: port of the Cosmos DB server, ${KEPT_PORTS}`,
  },
  {
    name: 'SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS',
    default: '30',
    description:
      'Local host: longest one orchestrator episode or entity batch may run on its worker thread before it fails (a shorter host.json functionTimeout wins); 0 runs them on the main thread, unbounded.',
  },
  {
    name: 'SLUICE_HEALTH_TIMEOUT_MS',
    default: '2000',
    description: 'GET /api/health: time budget per dependency probe.',
  },
  {
    name: 'SLUICE_SNAPSHOT_MAX_COMPRESSED_BYTES',
    default: '52428800',
    description: 'Largest code snapshot upload (tar.gz bytes); larger answers 413.',
  },
  {
    name: 'SLUICE_SNAPSHOT_MAX_EXPANDED_BYTES',
    default: '262144000',
    description: 'Largest code snapshot after extraction.',
  },
  {
    name: 'SLUICE_SNAPSHOT_MAX_FILE_BYTES',
    default: '104857600',
    description: 'Largest single file in a code snapshot.',
  },
  { name: 'SLUICE_SNAPSHOT_MAX_FILES', default: '10000', description: 'Most files in a code snapshot.' },
  {
    name: 'SLUICE_CACHE_VERSION',
    default: '1',
    description: 'Salt in every step cache key; change it to invalidate all reuse.',
  },
  {
    name: 'SLUICE_LOST_AFTER_MS',
    default: '30000',
    description: 'Heartbeat silence after which a running job is failed as lost (and retried per the step).',
  },
  {
    name: 'SLUICE_STEP_TIMEOUT_DEFAULT',
    default: '6h',
    description: "A step's timeout when its definition sets none.",
  },
  {
    name: 'SLUICE_TASK_HUB',
    default: 'sluice',
    description: 'Durable task hub the runs API talks to (host.json hubName).',
  },
  {
    name: 'SLUICE_DURABLE_RPC_URL',
    default: 'set by the local host’s durable engine (its loopback listener)',
    description:
      'Durable RPC endpoint for code without a durable client binding (every Sluice function that starts runs has one).',
  },
  {
    name: 'SLUICE_COMPUTE_TARGETS',
    default: '{"local":{"pool":"local"}}',
    description:
      'JSON map of compute target → {pool, environment}; the declared environment enters cache keys.',
  },
  {
    name: 'SLUICE_AGENT_CONCURRENCY',
    default: 'no cap',
    description:
      "A cap on the jobs one agent runs at once; without it agents admit jobs by free resources (a job's cpu, memoryGb, gpu; a job asking for nothing counts 1/4 CPU).",
  },
  { name: 'SLUICE_AGENT_TRACE', default: 'off', description: 'Agents: 1 prints the time of each job phase.' },
  {
    name: 'SLUICE_ENV_CACHE_DIR',
    default: '<os tmpdir>/sluice-envs',
    description: 'Agents: where built step environments (Python venvs, node_modules) are cached.',
  },
  {
    name: 'SLUICE_ENV_CACHE_MAX_BYTES',
    default: '21474836480 (20 GiB)',
    description: 'Agents: the environment cache is pruned to this size, least recently used first.',
  },
  {
    name: 'SLUICE_PIP_INDEX_URL',
    default: 'unset (PyPI)',
    description: 'Agents: a PyPI mirror for environments whose spec names no indexUrl.',
  },
  {
    name: 'SLUICE_PYTHONS',
    default: 'unset',
    description:
      'Agents: extra Python interpreters (colon-separated paths) besides python3 and python3.N on PATH.',
  },
  {
    name: 'AzureFunctionsWebHost__hostid',
    default: 'from package.json `name`',
    description:
      "Local host: the app's host ID, naming its timer leases and status; hosts of one app share it (as on Azure).",
  },
  {
    name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT',
    default: '104857600 (100 MB)',
    description:
      'Local host: the largest HTTP request body a function gets, in bytes (as on Azure); larger answers 413.',
  },
  {
    name: 'SLUICE_RUN_RETENTION_DAYS',
    default: 'off (keep every run)',
    description:
      'Days after which a finished run is deleted by the daily retention timer (as DELETE /api/runs/{id}: logs, jobs, history, cache entries, lineage); 0 or empty keeps every run.',
  },
  {
    name: 'SLUICE_TMP_BLOB_TTL',
    default: '6h',
    description:
      'Age (duration, at least 1h) after which an artifacts tmp/ staging blob left by a killed upload is deleted by the hourly sweep.',
  },
  {
    name: 'SLUICE_GC_GRACE',
    default: '24h',
    description:
      'Age (duration, at least 1h) an unreferenced artifact must reach before the daily artifact GC (or POST /api/gc) deletes it.',
  },
  {
    name: 'SLUICE_DATASET_CONTAINERS',
    default: 'any but system containers',
    description: 'Comma-separated allowlist of blob containers datasets may be registered from.',
  },
  {
    name: 'SLUICE_ENDPOINT',
    default: 'http://localhost:7071',
    description: 'CLI and remote agents: the Sluice API to call.',
  },
  {
    name: 'SLUICE_KEY',
    default: '—',
    description: 'CLI and remote agents: the function key sent as x-functions-key.',
    secret: true,
  },
  {
    name: 'SLUICE_AGENT_CREDENTIALS_TTL_SECONDS',
    default: '900',
    description:
      'How long the scoped storage credentials a remote agent gets with its agent key live (≥ 10); agents renew them at half-life.',
  },
  {
    name: 'SLURM_CONF',
    default: "Slurm's default",
    description:
      "The slurm.conf of the cluster Slurm compute targets submit to (the service is a Slurm submit host); a target's settings.slurmConf overrides it.",
  },
  {
    name: 'SLUICE_SCHEDULE_GRACE_SECONDS',
    default: '60',
    description: 'How late a schedule occurrence may run and still count as on time (not catch-up).',
  },
  {
    name: 'SLUICE_SCHEDULE_LEASE_SECONDS',
    default: '60',
    description: 'How long one evaluator holds a schedule while it starts runs.',
  },
];
