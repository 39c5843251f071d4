/**
 * Hash routes (#/runs, #/runs/ID, #/compare?ids=…, #/pipelines/NAME, #/datasets/NAME, #/schedules,
 * #/compute, #/compute/NAME) and keyboard navigation: j/k or ↓/↑ move through a list, Enter opens, g then r/p/d/s/c
 * jumps to a page, t toggles the theme, / focuses the first filter.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [path, q] = [h.split('?')[0] ?? '', h.split('?').slice(1).join('?')];
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts: parts.length ? parts : ['runs'], query: new URLSearchParams(q) };
}

export function navigate(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

const typing = (e: KeyboardEvent) => {
  const t = e.target as HTMLElement | null;
  return (
    !!t &&
    (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable)
  );
};

/** j/k (↓/↑) move a highlight through `count` rows; Enter opens the highlighted one. */
export function useKeyList(count: number, open: (i: number) => void): number {
  const [focus, setFocus] = useState(-1);
  // The handler reads the latest values through refs: a key pressed right after another must not see
  // the state from before the last render.
  const latest = useRef({ focus, count, open });
  latest.current = { focus: latest.current.focus, count, open };
  useEffect(() => {
    const move = (f: number) => {
      latest.current.focus = f;
      setFocus(f);
    };
    const on = (e: KeyboardEvent) => {
      if (typing(e) || e.metaKey || e.ctrlKey || e.altKey) return;
      const { focus: f, count: n } = latest.current;
      if (e.key === 'j' || e.key === 'ArrowDown') {
        move(Math.min(n - 1, f + 1));
        e.preventDefault();
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        move(Math.max(0, f - 1));
        e.preventDefault();
      } else if (e.key === 'Enter' && f >= 0 && f < n) latest.current.open(f);
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, []);
  useEffect(() => {
    document.querySelector('tr.focused')?.scrollIntoView({ block: 'nearest' });
  }, [focus]);
  return focus;
}

const JUMPS: Record<string, string> = {
  r: '#/runs',
  p: '#/pipelines',
  d: '#/datasets',
  s: '#/schedules',
  c: '#/compute',
};

/** Page-wide shortcuts. */
export function useGlobalKeys(toggleTheme: () => void, showHelp: () => void): void {
  useEffect(() => {
    let g = false;
    const on = (e: KeyboardEvent) => {
      if (typing(e) || e.metaKey || e.ctrlKey || e.altKey) return;
      if (g) {
        g = false;
        if (JUMPS[e.key]) navigate(JUMPS[e.key]!);
        return;
      }
      if (e.key === 'g') g = true;
      else if (e.key === 't') toggleTheme();
      else if (e.key === '?') showHelp();
      else if (e.key === '/') {
        const el = document.querySelector<HTMLElement>('.filters input, .filters select');
        if (el) {
          e.preventDefault();
          el.focus();
        }
      }
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, []);
}
