/**
 * The embedded Azure stack: Azurite (blob, queue, table) and the Cosmos DB server, on loopback.
 * STUB: the signature is the contract; lib/stack owns the implementation.
 */
export interface StackOptions {
  /** Folder for persisted data (Azurite files, Cosmos snapshot/journal). */
  dataDir: string;
  /** Throwaway in-memory data (tests). @default false */
  inMemory?: boolean;
}

export interface RunningStack {
  /** Settings to put in the environment: AzureWebJobsStorage, COSMOS_ENDPOINT, COSMOS_KEY. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(_opts: StackOptions): Promise<RunningStack> {
  throw new Error('lib/stack: startEmbeddedStack is not implemented yet');
}
