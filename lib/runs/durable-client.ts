import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions/types/durableClient';

/**
 * A durable client for code that is not itself bound to one (startRun called from a schedule or queue
 * function, the agent raising a completion event). With a `durableClient` input binding the binding wins;
 * otherwise the client talks to the engine of the host this process runs in: `WEBSITE_HOSTNAME` (set by
 * the local host and by Azure) or setting `SLUICE_DURABLE_RPC_URL`.
 */
export function durableClient(ctx?: InvocationContext): DurableClient {
  if (ctx) {
    try {
      return df.getClient(ctx);
    } catch {
      /* no binding on this function: fall through */
    }
  }
  const host = process.env.WEBSITE_HOSTNAME;
  const rpc =
    process.env.SLUICE_DURABLE_RPC_URL ||
    (host ? `http://${host.replace(/^0\.0\.0\.0/, '127.0.0.1')}/durabletask/` : undefined);
  if (!rpc)
    throw new Error(
      'No durable client: register the function with extraInputs: [df.input.durableClient()], or run inside the Sluice host (WEBSITE_HOSTNAME), or set SLUICE_DURABLE_RPC_URL',
    );
  const base = rpc.replace(/\/durabletask\/?$/, '');
  const webhooks = `${base}/runtime/webhooks/durabletask`;
  const hub = process.env.SLUICE_TASK_HUB || 'sluice';
  const data = {
    taskHubName: hub,
    creationUrls: {
      createNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]`,
      createAndWaitOnNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}`,
    },
    managementUrls: {
      id: 'INSTANCEID',
      statusQueryGetUri: `${webhooks}/instances/INSTANCEID?taskHub=${hub}`,
      sendEventPostUri: `${webhooks}/instances/INSTANCEID/raiseEvent/{eventName}?taskHub=${hub}`,
      terminatePostUri: `${webhooks}/instances/INSTANCEID/terminate?reason={text}&taskHub=${hub}`,
      rewindPostUri: `${webhooks}/instances/INSTANCEID/rewind?reason={text}&taskHub=${hub}`,
      purgeHistoryDeleteUri: `${webhooks}/instances/INSTANCEID?taskHub=${hub}`,
      restartPostUri: `${webhooks}/instances/INSTANCEID/restart?taskHub=${hub}`,
      suspendPostUri: `${webhooks}/instances/INSTANCEID/suspend?reason={text}&taskHub=${hub}`,
      resumePostUri: `${webhooks}/instances/INSTANCEID/resume?reason={text}&taskHub=${hub}`,
    },
    baseUrl: webhooks,
    requiredQueryStringParameters: '',
    rpcBaseUrl: rpc.endsWith('/') ? rpc : rpc + '/',
  };
  // The class is not exported from the package index; getClient builds the same object from a binding.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DurableClient: Client } = require('durable-functions/lib/src/durableClient/DurableClient') as {
    DurableClient: new (data: unknown) => DurableClient;
  };
  return new Client(data);
}
