/**
 * The host ID: the name under which a function app keeps its state in the storage account (timer
 * listener leases in `azure-webjobs-hosts/locks/<hostId>/…`, timer schedule status in
 * `azure-webjobs-hosts/timers/<hostId>/…`). Hosts of the same app share it, so they share those locks
 * and that status; different apps must not. As on Azure: the setting `AzureFunctionsWebHost__hostid`
 * wins; Azure otherwise derives it from the site name (lowercased, at most 32 characters); the local
 * host derives it from the app's package.json `name` the same way (its folder name when it has none).
 */
export class HostIdError extends Error {
  override name = 'HostIdError';
}

export const MAX_HOST_ID_LENGTH = 32;

/** The rule of the WebJobs SDK's HostIdValidator. */
export function isValidHostId(id: string): boolean {
  return id.length >= 1 && id.length <= MAX_HOST_ID_LENGTH && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(id);
}

/** A valid host ID from any name: lowercase, other characters to dashes, at most 32 characters. */
export function hostIdFromName(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, MAX_HOST_ID_LENGTH)
    .replace(/-+$/, '');
  return id || 'app';
}

/**
 * `AzureFunctionsWebHost__hostid` (also spelled `AzureFunctionsWebHost:hostid`; any case, as .NET
 * configuration keys are) when set, else one derived from `appName`.
 */
export function resolveHostId(appName: string, env: NodeJS.ProcessEnv = process.env): string {
  const key = Object.keys(env).find((k) => /^AzureFunctionsWebHost(__|:)hostid$/i.test(k) && env[k]);
  if (!key) return hostIdFromName(appName);
  const explicit = env[key]!.trim();
  if (!isValidHostId(explicit))
    throw new HostIdError(
      `Setting ${key} is "${explicit}", which is not a valid host ID: it must be 1 to ${MAX_HOST_ID_LENGTH} ` +
        'characters, only lowercase letters, digits and single dashes, not starting or ending with a dash ' +
        `(for example "${hostIdFromName(explicit)}").`,
    );
  return explicit;
}
