/**
 * The Sluice dashboard: a Preact app over the public REST API, served by the function app at
 * /api/dashboard/. Routes are hash routes (see router.tsx); the theme follows the system until chosen.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiKey, KEY_STORAGE } from './api';
import { ComparePage } from './compare';
import { DatasetPage, DatasetsPage } from './datasets';
import { PipelinePage, PipelinesPage } from './pipelines';
import { useGlobalKeys, useRoute } from './router';
import { RunPage } from './run-page';
import { RunsList } from './runs-list';
import { ComputePage } from './compute';
import { SchedulesPage } from './schedules';
import './style.css';

const NAV: Array<[string, string, string]> = [
  ['runs', 'Runs', 'g r'],
  ['compare', 'Compare', ''],
  ['pipelines', 'Pipelines', 'g p'],
  ['datasets', 'Datasets', 'g d'],
  ['schedules', 'Schedules', 'g s'],
  ['compute', 'Compute', 'g c'],
];

function initialTheme(): 'dark' | 'light' {
  const saved = localStorage.getItem('sluice.theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function App() {
  const route = useRoute();
  const [theme, setTheme] = useState(initialTheme);
  const [key, setKey] = useState(apiKey());
  const [help, setHelp] = useState(false);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('sluice.theme', theme);
  }, [theme]);
  useGlobalKeys(
    () => setTheme((t) => (t === 'dark' ? 'light' : 'dark')),
    () => setHelp((h) => !h),
  );
  const [page, id] = route.parts;
  let body;
  if (page === 'runs' && id) body = <RunPage key={id} runId={id} query={route.query} />;
  else if (page === 'compare') body = <ComparePage query={route.query} />;
  else if (page === 'pipelines' && id) body = <PipelinePage key={id} name={id} query={route.query} />;
  else if (page === 'pipelines') body = <PipelinesPage />;
  else if (page === 'datasets' && id) body = <DatasetPage key={id} name={id} query={route.query} />;
  else if (page === 'datasets') body = <DatasetsPage />;
  else if (page === 'schedules') body = <SchedulesPage name={id} />;
  else if (page === 'compute') body = <ComputePage name={id} />;
  else body = <RunsList query={route.query} />;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/runs">
          Sluice
        </a>
        <nav>
          {NAV.map(([p, label, keys]) => (
            <a href={`#/${p}`} class={page === p ? 'active' : ''} title={keys ? `${label} (${keys})` : label}>
              {label}
            </a>
          ))}
        </nav>
        <div class="spacer" />
        <input
          class="key"
          type="password"
          placeholder="function key (optional)"
          aria-label="function key"
          value={key}
          onChange={(e) => {
            const v = (e.target as HTMLInputElement).value;
            localStorage.setItem(KEY_STORAGE, v);
            setKey(v);
            location.reload();
          }}
        />
        <button
          class="icon"
          title="Theme (t)"
          aria-label="toggle theme"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <button
          class="icon"
          title="Keyboard shortcuts (?)"
          aria-label="keyboard shortcuts"
          onClick={() => setHelp(!help)}
        >
          ?
        </button>
      </header>
      {help && (
        <div class="help" role="dialog" aria-label="keyboard shortcuts">
          <b>Keys</b> · j/k or ↓/↑ move · Enter open · 1–7 run tabs · g r/p/d/s/c go to
          Runs/Pipelines/Datasets/Schedules/Compute · / filter · t theme · ? this help
        </div>
      )}
      <main>{body}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
