/**
 * The `durableClient` binding value (OrchestrationClientInputData, reference §5.1) and the management
 * links of an instance, as the extension builds them: public links under
 * `/runtime/webhooks/durabletask`, carrying `taskHub`, `connection` and, when a key is configured, the
 * system key as `code=`. Pure: the base URL and key are passed in.
 */

export interface ClientInputData {
  taskHubName: string;
  connectionName: string | null;
  creationUrls: Record<string, string>;
  managementUrls: Record<string, string>;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  httpBaseUrl: string;
}

export interface ClientInputOptions {
  /**
   * Where the client sends its calls (must end with `/`).
   * @default `<baseUrl>/durabletask/` (the host's port, where a configured master key is required)
   */
  rpcBaseUrl?: string;
  /** The key the public links carry as `code=` (as Azure's carry the system key). @default none */
  code?: string;
}

/** The `durableClient` binding value (OrchestrationClientInputData, reference §5.1). */
export function clientInputData(
  baseUrl: string,
  hub: string,
  opts: ClientInputOptions = {},
): ClientInputData {
  const origin = baseUrl.replace(/\/+$/, '');
  const base = `${origin}/runtime/webhooks/durabletask`;
  const code = opts.code ? `code=${encodeURIComponent(opts.code)}` : '';
  const q = `taskHub=${encodeURIComponent(hub)}&connection=Storage${code ? `&${code}` : ''}`;
  return {
    taskHubName: hub,
    connectionName: null,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]${code ? `?${code}` : ''}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}${code ? `&${code}` : ''}`,
    },
    managementUrls: managementUrls(base, 'INSTANCEID', q),
    baseUrl: base,
    requiredQueryStringParameters: code,
    rpcBaseUrl: opts.rpcBaseUrl ?? `${origin}/durabletask/`,
    httpBaseUrl: base,
  };
}

/** The management links of instance `id` (already URL-encoded) under `base`, each with query `q`. */
export function managementUrls(base: string, id: string, q: string): Record<string, string> {
  const i = `${base}/instances/${id}`;
  return {
    id,
    statusQueryGetUri: `${i}?${q}`,
    sendEventPostUri: `${i}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${i}/terminate?reason={text}&${q}`,
    rewindPostUri: `${i}/rewind?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${i}?${q}`,
    restartPostUri: `${i}/restart?${q}`,
    suspendPostUri: `${i}/suspend?reason={text}&${q}`,
    resumePostUri: `${i}/resume?reason={text}&${q}`,
  };
}
