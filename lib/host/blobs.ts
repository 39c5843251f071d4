/**
 * Blob input and output bindings (`input.storageBlob`, `output.storageBlob`) with the Functions
 * binding expressions in their paths: `{name}` from route parameters, trigger metadata or the
 * top-level properties of a JSON trigger payload, `{rand-guid}`, `{DateTime}`, and `%SETTING%`.
 */
import { randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import type { BindingInfo } from './types';

export class BindingExpressionError extends Error {
  override name = 'BindingExpressionError';
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `{DateTime}` as the Functions host formats it (UTC, path-safe). */
function dateTimeToken(d = new Date()): string {
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}Z`
  );
}

function lookup(data: Record<string, unknown>, path: string): unknown {
  let cur: unknown = data;
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    const obj = cur as Record<string, unknown>;
    const key = Object.keys(obj).find((k) => k.toLowerCase() === part.toLowerCase());
    cur = key === undefined ? undefined : obj[key];
  }
  return cur;
}

/** Resolves a binding path template against the invocation's binding data. */
export function resolveBindingPath(template: string, data: Record<string, unknown>, what: string): string {
  const withSettings = template.replace(/%([^%]+)%/g, (_m, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new BindingExpressionError(`${what}: app setting %${name}% is not set.`);
    return v;
  });
  return withSettings.replace(/\{([^{}]+)\}/g, (_m, expr: string) => {
    const e = expr.trim();
    if (e.toLowerCase() === 'rand-guid') return randomUUID();
    if (e.toLowerCase() === 'datetime') return dateTimeToken();
    const v = lookup(data, e);
    if (v === undefined || v === null || typeof v === 'object')
      throw new BindingExpressionError(
        `${what}: the binding expression {${e}} has no value in this invocation (route parameters, trigger metadata and top-level JSON properties are available).`,
      );
    return String(v);
  });
}

/** The data binding expressions see: JSON payload properties, then metadata and route params on top. */
export function bindingData(
  payload: unknown,
  metadata: Record<string, unknown> | undefined,
  params: Record<string, string> | undefined,
): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (payload && typeof payload === 'object' && !Array.isArray(payload) && !Buffer.isBuffer(payload))
    Object.assign(data, payload);
  if (metadata) Object.assign(data, metadata);
  if (params) Object.assign(data, params);
  return data;
}

function splitPath(path: string, what: string): [string, string] {
  const clean = path.replace(/^\/+/, '');
  const i = clean.indexOf('/');
  if (i <= 0 || i === clean.length - 1)
    throw new BindingExpressionError(`${what}: blob path "${path}" must be "<container>/<blob name>".`);
  return [clean.slice(0, i), clean.slice(i + 1)];
}

/** Blob clients per connection setting. */
export class BlobBindings {
  private services = new Map<string, BlobServiceClient>();
  private containers = new Map<string, Promise<unknown>>();
  /** Told of every blob an output binding wrote (its container's URL): blob triggers scan at once. */
  onWritten: (containerUrl: string) => void = () => {};

  service(binding: BindingInfo, what: string): BlobServiceClient {
    const name = (binding.connection as string | undefined) || 'AzureWebJobsStorage';
    const conn = process.env[name] ?? process.env[`AzureWebJobs${name}`];
    if (!conn)
      throw new BindingExpressionError(
        `${what}: the blob binding's connection setting "${name}" is not set; add it to local.settings.json Values.`,
      );
    let svc = this.services.get(conn);
    if (!svc) {
      svc = BlobServiceClient.fromConnectionString(conn);
      this.services.set(conn, svc);
    }
    return svc;
  }

  /** The blob's content (Buffer, or a string for `dataType: 'string'`), or null when it does not exist. */
  async read(
    binding: BindingInfo,
    data: Record<string, unknown>,
    what: string,
  ): Promise<Buffer | string | null> {
    const [container, blob] = splitPath(resolveBindingPath(String(binding.path ?? ''), data, what), what);
    try {
      const buf = await this.service(binding, what)
        .getContainerClient(container)
        .getBlobClient(blob)
        .downloadToBuffer();
      return binding.dataType === 'string' ? buf.toString('utf8') : buf;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
  }

  /** Writes an output value (RpcTypedData from the invocation model) to the resolved blob path. */
  async write(
    binding: BindingInfo,
    typed: Record<string, unknown>,
    data: Record<string, unknown>,
    what: string,
  ): Promise<void> {
    const [container, blob] = splitPath(resolveBindingPath(String(binding.path ?? ''), data, what), what);
    let body: Buffer;
    if (typeof typed.string === 'string') body = Buffer.from(typed.string, 'utf8');
    else if (typeof typed.json === 'string') body = Buffer.from(typed.json, 'utf8');
    else if (typed.bytes) body = Buffer.from(typed.bytes as Uint8Array);
    else if (typeof typed.int === 'number' || typeof typed.double === 'number')
      body = Buffer.from(String(typed.int ?? typed.double));
    else return;
    const client = this.service(binding, what).getContainerClient(container);
    const key = client.url;
    let ready = this.containers.get(key);
    if (!ready) {
      ready = client.createIfNotExists();
      ready.catch(() => this.containers.delete(key));
      this.containers.set(key, ready);
    }
    await ready;
    await client.getBlockBlobClient(blob).upload(body, body.length);
    this.onWritten(client.url);
  }
}
