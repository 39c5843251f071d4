/**
 * Who may call the durable management API on the host's port. On Azure the extension's webhook
 * (`/runtime/webhooks/durabletask/…`) needs the master key or the `durabletask_extension` system key,
 * and the links it hands out (`statusQueryGetUri` …) carry the system key as `code=`. The local host
 * does the same once `SLUICE_MASTER_KEY` is set: it accepts the master key, or a system key derived from
 * it, which is the one the links carry — so a starter function that returns `createCheckStatusResponse`
 * (often anonymous) never hands its callers the master key, which also opens `/admin/*`.
 * With no master key the API stays open, as it always was for local development (the host warns once
 * about unkeyed routes).
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ProblemError } from '../errors/problem';
import { keyMatches, presentedKey } from '../host/http-io';

/** The system key for the management API: derived from the master key, stable across restarts. */
export function systemKeyFor(masterKey: string): string {
  return createHmac('sha256', masterKey).update('sluice/durabletask_extension').digest('base64url');
}

export interface ManagementAccess {
  /** The key put into the links the API and the client binding hand out (`code=`). */
  readonly linkKey: string;
  /** Whether the request presents an accepted key (`x-functions-key` header or `code` query). */
  admits(req: IncomingMessage, url: URL): boolean;
  /** The 401 problem for a request that does not. */
  refusal(): ProblemError;
}

/** The access rule from the host's settings; undefined when no master key is configured. */
export function managementAccess(env: NodeJS.ProcessEnv = process.env): ManagementAccess | undefined {
  const master = env.SLUICE_MASTER_KEY || undefined;
  if (!master) return undefined;
  const system = systemKeyFor(master);
  return {
    linkKey: system,
    admits: (req, url) => keyMatches(presentedKey(req, url), master, system),
    refusal: () =>
      new ProblemError(
        'unauthorized',
        'The durable management API needs the master key (SLUICE_MASTER_KEY) or the system key that its ' +
          'statusQueryGetUri links carry: send it in the x-functions-key header or the code query parameter.',
      ),
  };
}
