/** Small shared pieces: status pills, times, durations, tabs, tables, loading and error states. */
import type { ComponentChildren } from 'preact';

export function Pill({ status }: { status: string }) {
  return <span class={`pill s-${status}`}>{status}</span>;
}

export function when(t?: string): string {
  return t ? new Date(t).toLocaleString() : '';
}

export function ago(t?: string): string {
  if (!t) return '';
  const s = Math.round((Date.now() - Date.parse(t)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function msText(ms?: number): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m}m ${Math.round((ms % 60_000) / 1000)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function duration(a?: string, b?: string): string {
  if (!a) return '';
  return msText((b ? Date.parse(b) : Date.now()) - Date.parse(a));
}

export function num(v: unknown): string {
  if (typeof v !== 'number')
    return v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
  return Number.isInteger(v)
    ? String(v)
    : Math.abs(v) >= 1000 || Math.abs(v) < 0.001
      ? v.toExponential(3)
      : v.toFixed(4);
}

export function bytes(n?: number): string {
  if (n === undefined) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < u.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i ? x.toFixed(1) : x} ${u[i]}`;
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}

export function ErrorBox({ error }: { error?: string }) {
  return error ? (
    <pre class="error" role="alert">
      {error}
    </pre>
  ) : null;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted empty">{children}</p>;
}

export function Tabs<T extends string>(props: {
  tabs: Array<[T, string]>;
  active: T;
  onSelect: (t: T) => void;
}) {
  return (
    <div class="tabs" role="tablist">
      {props.tabs.map(([id, label], i) => (
        <button
          role="tab"
          aria-selected={props.active === id}
          class={props.active === id ? 'tab active' : 'tab'}
          title={`${label} (${i + 1})`}
          onClick={() => props.onSelect(id)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

/** A key-value table (parameters, tags, trial parameters). */
export function KeyValues({ values, empty = 'None.' }: { values: Record<string, unknown>; empty?: string }) {
  const entries = Object.entries(values ?? {});
  if (!entries.length) return <Empty>{empty}</Empty>;
  return (
    <table class="kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr>
            <th>{k}</th>
            <td class="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function short(id: string, n = 10): string {
  return id.length > n + 2 ? id.slice(0, n) + '…' : id;
}

export const STATUS_COLOR: Record<string, string> = {
  Completed: 'var(--ok)',
  Succeeded: 'var(--ok)',
  succeeded: 'var(--ok)',
  Reused: 'var(--reuse)',
  Failed: 'var(--bad)',
  failed: 'var(--bad)',
  Running: 'var(--accent)',
  running: 'var(--accent)',
  Queued: 'var(--warn)',
  queued: 'var(--warn)',
  Canceled: 'var(--dim)',
  Skipped: 'var(--dim)',
  NotStarted: 'var(--dim)',
};
