/**
 * The dashboard reads only the documented REST API (GET /api/openapi.json), with the key the user
 * entered (kept in localStorage) as `x-functions-key`. Problems (RFC 7807) become one readable error.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LeaderboardRow } from './leaderboard-model';

export const KEY_STORAGE = 'sluice.key';

export function apiKey(): string {
  return localStorage.getItem(KEY_STORAGE) ?? '';
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = apiKey();
  return key ? { ...extra, 'x-functions-key': key } : extra;
}

async function problemText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as {
      detail?: string;
      title?: string;
      errors?: Array<{ pointer: string; message: string }>;
    };
    return [
      p.detail ?? p.title ?? `HTTP ${res.status}`,
      ...(p.errors ?? []).map((e) => `${e.pointer}: ${e.message}`),
    ].join('\n');
  } catch {
    return text || `HTTP ${res.status}`;
  }
}

/** `path` is relative to /api (`/runs/…`). */
export async function api<T = any>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch('/api' + path, {
    ...init,
    headers: headers(init.headers as Record<string, string>),
  });
  if (!res.ok) throw new ApiError(res.status, await problemText(res));
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

export async function apiText(path: string): Promise<string> {
  const res = await fetch('/api' + path, { headers: headers() });
  if (!res.ok) throw new ApiError(res.status, await problemText(res));
  return res.text();
}

export async function apiBlob(
  path: string,
  maxBytes: number,
): Promise<{ blob: Blob; size: number; truncated: boolean }> {
  const res = await fetch('/api' + path, { headers: headers() });
  if (!res.ok) throw new ApiError(res.status, await problemText(res));
  const size = Number(res.headers.get('content-length') ?? 0);
  // Read at most maxBytes, so a huge output never lands whole in the page.
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < maxBytes) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    got += value.length;
  }
  const truncated = got >= maxBytes;
  if (truncated) await reader.cancel().catch(() => undefined);
  return { blob: new Blob(parts as BlobPart[]), size: size || got, truncated };
}

export const enc = encodeURIComponent;

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `path` (null: nothing yet), and again every `pollMs` while `poll(data)` says so. One request at
 * a time per view; a view that unmounts stops polling.
 */
export function useApi<T = any>(
  path: string | null,
  opts: { pollMs?: number; poll?: (d: T) => boolean } = {},
): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const optsRef = useRef(opts);
  optsRef.current = opts;
  useEffect(() => {
    if (path === null) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const data = await api<T>(path);
        if (!alive) return;
        setState({ data, loading: false });
        const o = optsRef.current;
        if (o.pollMs && (!o.poll || o.poll(data))) timer = setTimeout(load, o.pollMs);
      } catch (e) {
        if (alive) setState((s) => ({ ...s, error: (e as Error).message, loading: false }));
      }
    };
    setState((s) => ({ ...s, loading: true }));
    void load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [path, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Every page of a paged list (up to `max` items). */
export async function allPages<T>(path: string, max = 500): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api<{ items: T[]; continuationToken?: string }>(
      path + (token ? `${sep}continuationToken=${enc(token)}` : ''),
    );
    out.push(...page.items);
    token = page.continuationToken;
  } while (token && out.length < max);
  return out;
}

export interface Step {
  name: string;
  status: string;
  dependsOn?: string[];
  attempts: number;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  cache?: {
    key: string;
    decision: 'reused' | 'run';
    reason: string;
    changes?: Array<{ component: string; message: string }>;
    since?: string;
  };
  reusedFrom?: { runId: string; step: string };
  waitingFor?: { runId: string; step: string };
  outputs?: Record<string, { hash: string; type: 'file' | 'directory'; size?: number }>;
  error?: { code: string; message: string };
  metrics?: Array<{ name: string; value: number; step?: number }>;
  batches?: { total: number; running: number; succeeded: number; failed: number; retrying?: number };
  batchErrors?: Array<{ batch: number; attempt: number; code: string; message: string }>;
  bestTrial?: { index: number; parameters: Record<string, unknown>; metric: string; value: number };
  /** sweep/automl: every trial, best first (at most 200). */
  leaderboard?: LeaderboardRow[];
}

export interface Run {
  runId: string;
  pipeline: string;
  version: number;
  definitionHash: string;
  status: string;
  parameters: Record<string, unknown>;
  inputs: Record<string, string>;
  tags: Record<string, string>;
  trigger: { type: string; [k: string]: unknown };
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  rerunOf?: string;
  steps: Step[];
}

export interface Series {
  step: string;
  name: string;
  points: Array<{ x: number; value: number }>;
  last: number;
  min: number;
  max: number;
}
