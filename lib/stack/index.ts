/**
 * The embedded Azure stack: Azurite (blob, queue, table) and the Cosmos DB server, each in its own child
 * process on loopback, with data under `dataDir` (see README.md in this folder for layout and crash
 * semantics). Settings that name real Azure resources are left alone: that service is not started.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isLocalCosmos, isLocalStorage } from '../config/settings';
import { azuriteLocation, startAzurite, type RunningAzurite } from './azurite';
import { startCosmos, type RunningCosmos } from './cosmos';
import {
  choosePorts,
  PortInUseError,
  PortTakenError,
  portSettings,
  rememberedPorts,
  rememberPorts,
} from './ports';

export interface StackOptions {
  /** Folder for persisted data (Azurite files, Cosmos snapshot/journal). */
  dataDir: string;
  /** Throwaway in-memory data (tests). @default false */
  inMemory?: boolean;
  /**
   * The settings that decide what to start (a service whose setting names a real, non-loopback
   * resource is not started) and on which ports (`SLUICE_BLOB_PORT`, …; see ports.ts). Pass `{}` to
   * always start both. @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /** Loopback address to listen on. @default "127.0.0.1" */
  host?: string;
  /** Write `<dataDir>/stack.json` describing the running stack (for tools and tests). @default !inMemory */
  writeStackFile?: boolean;
}

export interface RunningStack {
  /** Settings to put in the environment: AzureWebJobsStorage, COSMOS_ENDPOINT, COSMOS_KEY. */
  env: Record<string, string>;
  /** Pids of the child processes started (absent: not started because settings name real services). */
  pids?: { azurite?: number; cosmos?: number };
  stop(): Promise<void>;
}

/** The key of Azurite's well-known development account (public, documented by Microsoft). */
export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** Any key works with the Cosmos DB server; this one only makes the setting non-empty. */
export const LOCAL_COSMOS_KEY = 'sluice-local';

export const STACK_FILE = 'stack.json';

/** What `<dataDir>/stack.json` holds while a stack runs. Removed on clean stop. */
export interface StackFile {
  pid: number;
  startedAt: string;
  env: Record<string, string>;
  azurite?: { pid: number; ports: { blob: number; queue: number; table: number } };
  cosmos?: { pid: number; port: number };
}

/** Which services to start for the given settings: only those not pointed at real resources. */
export function planEmbeddedStack(env: NodeJS.ProcessEnv): { storage: boolean; cosmos: boolean } {
  const storage = env.AzureWebJobsStorage;
  const cosmos = env.COSMOS_ENDPOINT;
  return {
    storage: !storage || isLocalStorage(storage),
    cosmos: !cosmos || isLocalCosmos(cosmos),
  };
}

/** An explicit connection string for Azurite's development account on the given ports. */
export function azuriteConnectionString(
  host: string,
  ports: { blob: number; queue: number; table: number },
): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT_NAME};AccountKey=${DEV_ACCOUNT_KEY};` +
    `BlobEndpoint=http://${host}:${ports.blob}/${DEV_ACCOUNT_NAME};` +
    `QueueEndpoint=http://${host}:${ports.queue}/${DEV_ACCOUNT_NAME};` +
    `TableEndpoint=http://${host}:${ports.table}/${DEV_ACCOUNT_NAME};`
  );
}

export async function startEmbeddedStack(opts: StackOptions): Promise<RunningStack> {
  const host = opts.host ?? '127.0.0.1';
  const inMemory = opts.inMemory ?? false;
  const dataDir = path.resolve(opts.dataDir);
  const settings = opts.env ?? process.env;
  const plan = planEmbeddedStack(settings);
  if (!inMemory) fs.mkdirSync(dataDir, { recursive: true });
  // The same ports as the last start on this folder, so agents and CLIs reach it again (ports.ts).
  const choice = choosePorts(portSettings(settings), inMemory ? {} : rememberedPorts(dataDir));

  // Both start in parallel; a failure of one stops the other.
  const [az, co] = await Promise.allSettled([
    plan.storage
      ? startAzurite({
          host,
          inMemory,
          location: azuriteLocation(dataDir),
          ports: { blob: choice.blob.port, queue: choice.queue.port, table: choice.table.port },
        })
      : undefined,
    plan.cosmos
      ? startCosmos({
          host,
          port: choice.cosmos.port,
          dir: inMemory ? undefined : path.join(dataDir, 'cosmos'),
        })
      : undefined,
  ]);
  const azurite: RunningAzurite | undefined = az.status === 'fulfilled' ? az.value : undefined;
  const cosmos: RunningCosmos | undefined = co.status === 'fulfilled' ? co.value : undefined;
  if (az.status === 'rejected' || co.status === 'rejected') {
    await Promise.all([azurite?.stop(), cosmos?.stop()]);
    const reason = az.status === 'rejected' ? az.reason : (co as PromiseRejectedResult).reason;
    if (reason instanceof PortTakenError) {
      const c = choice[reason.service];
      throw new PortInUseError(
        reason.service,
        reason.port || c.port,
        c.source,
        inMemory ? undefined : dataDir,
      );
    }
    throw reason;
  }
  if (!inMemory)
    rememberPorts(dataDir, {
      ...(azurite && azurite.ports),
      ...(cosmos && { cosmos: cosmos.port }),
    });

  const env: Record<string, string> = {};
  if (azurite) env.AzureWebJobsStorage = azuriteConnectionString(host, azurite.ports);
  if (cosmos) {
    env.COSMOS_ENDPOINT = `http://${host}:${cosmos.port}`;
    env.COSMOS_KEY = LOCAL_COSMOS_KEY;
  }

  const stackFile = path.join(dataDir, STACK_FILE);
  const writeFile = opts.writeStackFile ?? !inMemory;
  if (writeFile) {
    const content: StackFile = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      env,
      ...(azurite && { azurite: { pid: azurite.process.pid!, ports: azurite.ports } }),
      ...(cosmos && { cosmos: { pid: cosmos.process.pid!, port: cosmos.port } }),
    };
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(`${stackFile}.tmp`, JSON.stringify(content, null, 2));
    fs.renameSync(`${stackFile}.tmp`, stackFile);
  }

  let stopped: Promise<void> | undefined;
  return {
    env,
    pids: { azurite: azurite?.process.pid, cosmos: cosmos?.process.pid },
    stop() {
      stopped ??= (async () => {
        await Promise.all([azurite?.stop(), cosmos?.stop()]);
        if (writeFile) fs.rmSync(stackFile, { force: true });
      })();
      return stopped;
    },
  };
}

/** Reads `<dataDir>/stack.json` (the connection settings of the stack running there), if present. */
export function readStackFile(dataDir: string): StackFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, STACK_FILE), 'utf8')) as StackFile;
  } catch {
    return undefined;
  }
}
