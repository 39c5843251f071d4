/**
 * The app's own `@azure/functions`: which version it pinned decides what the host hands it, because
 * older versions read some invocation data the newer ones ignore. Feature probes, not app code.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface HttpRequestClass {
  new (init: unknown): unknown;
}

export interface AppLibrary {
  /** The version the app resolves (`undefined` when it cannot be found from the app folder). */
  version: string | undefined;
  /**
   * @azure/functions 4.0–4.3 build `request.query` only from the invocation data's `query` map (the
   * host's RpcHttp), never from the URL; later versions parse the URL (keeping repeated keys) when
   * `query` is absent, so the host sends it only to the old ones.
   */
  readsQueryFromInvocationData: boolean;
  /** The app's `HttpRequest` class (apps that enabled HTTP streams get requests built with it). */
  HttpRequest(): HttpRequestClass;
  /** True when the app's HttpRequest takes a web `Request` (4.5+): request bodies can then stream. */
  streamsRequestBodies(): boolean;
}

/** `major.minor.patch` → comparable numbers; pre-release tags ignored. */
function parts(version: string): number[] {
  return version
    .split('-')[0]!
    .split('.')
    .map((n) => Number(n) || 0);
}

export function olderThan(version: string, than: string): boolean {
  const a = parts(version);
  const b = parts(than);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

function findVersion(appRequire: NodeJS.Require): string | undefined {
  let main: string;
  try {
    main = appRequire.resolve('@azure/functions');
  } catch {
    return undefined;
  }
  // Walk up from the entry file to the package's own package.json (its `exports` may hide it).
  for (let dir = dirname(main); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@azure/functions') return pkg.version;
    } catch {
      /* not here: keep walking */
    }
  }
  return undefined;
}

export function appLibrary(appDir: string): AppLibrary {
  const appRequire = createRequire(join(appDir, 'package.json'));
  const version = findVersion(appRequire);
  let cls: HttpRequestClass | undefined;
  let streams: boolean | undefined;
  const HttpRequest = (): HttpRequestClass =>
    (cls ??= (appRequire('@azure/functions') as { HttpRequest: HttpRequestClass }).HttpRequest);
  return {
    version,
    readsQueryFromInvocationData: version !== undefined && olderThan(version, '4.4.0'),
    HttpRequest,
    streamsRequestBodies: () => {
      if (streams === undefined) {
        try {
          const probe = new (HttpRequest())({ nativeRequest: new Request('http://probe/x'), params: {} }) as {
            url?: string;
          };
          streams = probe.url === 'http://probe/x';
        } catch {
          streams = false;
        }
      }
      return streams;
    },
  };
}
