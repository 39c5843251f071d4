/**
 * The engine's own loopback listener for the durable client, as the Azure extension runs one
 * (`http://127.0.0.1:17071/durabletask/`, reference §5.1): durable-functions sends every client call to
 * `rpcBaseUrl` and cannot add a key to them, so they go here, where no key is asked, while the host's
 * public port keeps the management API behind the master key. It listens on 127.0.0.1 only, on a free
 * port; the app's code runs in this process and reaches it, other machines cannot.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProblemError, notFound } from '../errors/problem';
import { sendProblem } from './api-io';
import { RPC_PREFIX } from './http-api';

export interface RpcListener {
  /** `http://127.0.0.1:PORT/durabletask/` (ends with `/`, as durable-functions requires). */
  readonly rpcBaseUrl: string;
  close(): Promise<void>;
}

export async function startRpcListener(
  handle: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>,
  log: { error(m: string): void },
): Promise<RpcListener> {
  let origin = '';
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', origin);
    } catch {
      sendProblem(res, notFound('The request URL is not valid.'), '/');
      return;
    }
    handle(req, res, url)
      .then((served) => {
        if (!served)
          sendProblem(
            res,
            notFound(`This listener serves only ${RPC_PREFIX}…, not ${url.pathname}.`),
            url.pathname,
          );
      })
      .catch((e: unknown) => {
        log.error(
          `durable: rpc listener error on ${req.method} ${url.pathname}: ${(e as Error)?.stack ?? e}`,
        );
        if (!res.headersSent)
          sendProblem(
            res,
            new ProblemError('internal', 'Unexpected error in the durable rpc listener.'),
            url.pathname,
          );
        else res.destroy();
      });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    rpcBaseUrl: `${origin}${RPC_PREFIX}`,
    close: () =>
      new Promise<void>((done) => {
        // Calls in flight (after the engine stopped they are quick refusals) may finish; then cut.
        server.close(() => done());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      }),
  };
}
