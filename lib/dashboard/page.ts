/**
 * The dashboard page: plain HTML, CSS and browser JavaScript, no build step and no dependencies.
 * It only reads and calls the documented REST API, so anything it shows can also be scripted.
 * Routes (hash): #/runs, #/runs/<id>, #/pipelines, #/pipelines/<name>, #/schedules, #/datasets.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#2a333d; --text:#dce3ea; --dim:#8a96a3; --accent:#4aa3ff;
          --ok:#3fb950; --bad:#f85149; --warn:#d29922; --reuse:#a371f7; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, Segoe UI, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; gap:20px; align-items:center; padding:10px 20px; border-bottom:1px solid var(--line); background:var(--panel); }
  header h1 { font-size:17px; margin:0; letter-spacing:.5px; }
  header nav a { color:var(--dim); text-decoration:none; margin-right:14px; }
  header nav a.active, header nav a:hover { color:var(--text); }
  header .key { margin-left:auto; }
  input, select, button { background:var(--bg); color:var(--text); border:1px solid var(--line); border-radius:4px; padding:4px 8px; font:inherit; }
  button { cursor:pointer; } button:hover { border-color:var(--accent); }
  main { padding:16px 20px; max-width:1300px; }
  table { border-collapse:collapse; width:100%; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
  th { color:var(--dim); font-weight:500; }
  tr.click:hover { background:var(--panel); cursor:pointer; }
  a { color:var(--accent); }
  .pill { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; border:1px solid currentColor; }
  .Completed,.Succeeded,.true { color:var(--ok); } .Failed,.false { color:var(--bad); }
  .Running,.Queued,.Pending { color:var(--accent); } .Reused { color:var(--reuse); }
  .Canceled,.Skipped,.NotStarted { color:var(--dim); }
  .muted { color:var(--dim); } .err { color:var(--bad); white-space:pre-wrap; }
  .grid { display:grid; grid-template-columns: 160px 1fr; gap:4px 16px; margin-bottom:16px; }
  pre { background:#0a0e12; border:1px solid var(--line); padding:10px; overflow:auto; max-height:480px; font-size:12px; }
  .row { display:flex; gap:10px; align-items:center; margin:10px 0; }
  svg text { fill:var(--text); font-size:12px; }
</style>
</head>
<body>
<header>
  <h1>Sluice</h1>
  <nav>
    <a href="#/runs">Runs</a><a href="#/pipelines">Pipelines</a><a href="#/schedules">Schedules</a><a href="#/datasets">Datasets</a>
  </nav>
  <span class="key"><input id="key" type="password" placeholder="function key (optional)" size="22"></span>
</header>
<main id="main"><p class="muted">Loading…</p></main>
<script>
const $main = document.getElementById('main');
const keyInput = document.getElementById('key');
keyInput.value = localStorage.getItem('sluice.key') || '';
keyInput.addEventListener('change', () => { localStorage.setItem('sluice.key', keyInput.value); route(); });
let timer = null;

function esc(v) { return String(v ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c])); }
function pill(s) { return '<span class="pill ' + esc(s) + '">' + esc(s) + '</span>'; }
function when(t) { return t ? new Date(t).toLocaleString() : ''; }
function dur(a, b) { if (!a) return ''; const ms = (b ? new Date(b) : new Date()) - new Date(a); return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s'; }
function lastMetrics(ms) { const last = {}; (ms || []).forEach(m => last[m.name] = m.value);
  return Object.entries(last).map(([k, v]) => k + '=' + (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v)).join(', '); }
function items(x) { return Array.isArray(x) ? x : (x && (x.items || x.value || x.runs || x.pipelines || x.schedules || x.datasets)) || []; }

async function api(path, init = {}) {
  const headers = Object.assign({}, init.headers || {});
  if (keyInput.value) headers['x-functions-key'] = keyInput.value;
  const res = await fetch('/api' + path, Object.assign({}, init, { headers }));
  const text = await res.text();
  let body; try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!res.ok) {
    const p = body && typeof body === 'object' ? body : { detail: text };
    const lines = [p.detail || p.title || ('HTTP ' + res.status)].concat((p.errors || []).map(e => e.pointer + ': ' + e.message));
    throw new Error(lines.join('\\n'));
  }
  return body;
}

function fail(e) { $main.innerHTML = '<p class="err">' + esc(e.message) + '</p>'; }

async function runsView() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const data = await api('/runs?' + q.toString());
  const rows = items(data).map(r => '<tr class="click" onclick="location.hash=\\'#/runs/' + esc(r.runId || r.id) + '\\'">' +
    '<td>' + esc(r.runId || r.id) + '</td><td>' + esc(r.pipeline) + '@' + esc(r.version) + '</td><td>' + pill(r.status) + '</td>' +
    '<td>' + esc(r.trigger && r.trigger.type) + '</td><td>' + when(r.createdAt || r.startedAt) + '</td><td>' + dur(r.startedAt, r.finishedAt) + '</td></tr>').join('');
  $main.innerHTML = '<h2>Runs</h2><div class="row">Status <select id="st"><option></option>' +
    ['Queued','Running','Completed','Failed','Canceled'].map(s => '<option' + (q.get('status') === s ? ' selected' : '') + '>' + s + '</option>').join('') +
    '</select> Pipeline <input id="pl" value="' + esc(q.get('pipeline') || '') + '"></div>' +
    '<table><tr><th>Run</th><th>Pipeline</th><th>Status</th><th>Trigger</th><th>Created</th><th>Duration</th></tr>' + (rows || '<tr><td colspan=6 class="muted">No runs yet.</td></tr>') + '</table>';
  const apply = () => { const p = new URLSearchParams(); const s = document.getElementById('st').value, n = document.getElementById('pl').value;
    if (s) p.set('status', s); if (n) p.set('pipeline', n); location.hash = '#/runs?' + p.toString(); };
  document.getElementById('st').onchange = apply; document.getElementById('pl').onchange = apply;
  timer = setTimeout(route, 3000);
}

function dagSvg(steps) {
  const byName = Object.fromEntries(steps.map(s => [s.name, s]));
  const level = {};
  const depth = n => { if (level[n] !== undefined) return level[n]; level[n] = 0;
    const deps = (byName[n] && (byName[n].dependsOn || byName[n].dependencies)) || [];
    level[n] = deps.length ? 1 + Math.max(...deps.map(depth)) : 0; return level[n]; };
  steps.forEach(s => depth(s.name));
  const cols = {}; steps.forEach(s => (cols[level[s.name]] = cols[level[s.name]] || []).push(s.name));
  const pos = {}; Object.entries(cols).forEach(([c, names]) => names.forEach((n, i) => pos[n] = { x: 20 + c * 190, y: 20 + i * 54 }));
  const h = 40 + Math.max(...Object.values(cols).map(c => c.length)) * 54, w = 40 + Object.keys(cols).length * 190;
  let out = '<svg width="' + w + '" height="' + h + '">';
  steps.forEach(s => ((s.dependsOn || s.dependencies) || []).forEach(d => { if (!pos[d]) return;
    out += '<line x1="' + (pos[d].x + 150) + '" y1="' + (pos[d].y + 17) + '" x2="' + pos[s.name].x + '" y2="' + (pos[s.name].y + 17) + '" stroke="#2a333d" stroke-width="2"/>'; }));
  const color = { Completed:'#3fb950', Reused:'#a371f7', Failed:'#f85149', Running:'#4aa3ff', Queued:'#4aa3ff' };
  steps.forEach(s => { const p = pos[s.name];
    out += '<g style="cursor:pointer" onclick="showLogs(\\'' + esc(s.name) + '\\')"><rect x="' + p.x + '" y="' + p.y + '" width="150" height="34" rx="6" fill="#171d24" stroke="' + (color[s.status] || '#8a96a3') + '" stroke-width="2"/>' +
      '<text x="' + (p.x + 10) + '" y="' + (p.y + 21) + '">' + esc(s.name) + ' · ' + esc(s.status) + '</text></g>'; });
  return out + '</svg>';
}

// parallelRun / automl steps: progress, the winning trial, and the latest failed batch attempts.
function batchProgress(b) {
  if (!b) return '';
  const extra = (b.retrying ? ', ' + b.retrying + ' retrying' : '') + (b.failed ? ', ' + b.failed + ' failed' : '');
  return ' <span class="muted">' + esc(b.succeeded + '/' + b.total + ' batches' + extra) + '</span>';
}
function bestTrial(t) {
  const params = Object.entries(t.parameters || {}).map(([k, v]) => k + '=' + v).join(', ');
  return 'best trial ' + t.index + ': ' + t.metric + '=' + t.value + (params ? ' (' + params + ')' : '');
}
function batchErrorList(errors) {
  if (!errors || !errors.length) return '';
  return errors.slice(-5).map(e => '<div class="muted">batch ' + esc(e.batch) + ', attempt ' + esc(e.attempt) + ': ' + esc(e.code) + ' — ' + esc(e.message) + '</div>').join('') +
    (errors.length > 5 ? '<div class="muted">… ' + (errors.length - 5) + ' earlier</div>' : '');
}

// sweep / automl steps: every trial, best first (the first 20 rows).
function leaderboards(steps) {
  return steps.filter(s => s.leaderboard && s.leaderboard.length).map(s => {
    const names = [...new Set(s.leaderboard.flatMap(r => Object.keys(r.metrics || {})))];
    const rows = s.leaderboard.slice(0, 20).map(r => '<tr><td>' + esc(r.rank) + '</td><td>' + esc(r.family ? r.family + (r.model ? '/' + r.model : '') : 'trial ' + r.trial) + '</td><td>' + pill(r.status) + '</td><td>' + esc(r.durationS ?? '') + '</td>' +
      names.map(n => '<td>' + esc(r.metrics && r.metrics[n] !== undefined ? Number(r.metrics[n]).toPrecision(4) : '') + '</td>').join('') +
      '<td class="muted">' + esc(r.error || Object.entries(r.hyperparameters || {}).map(([k, v]) => k + '=' + v).join(' ')) + '</td></tr>').join('');
    return '<h3>Leaderboard: ' + esc(s.name) + ' <span class="muted">(' + s.leaderboard.length + ' trials)</span></h3><table><tr><th>#</th><th>Model</th><th>Status</th><th>Seconds</th>' +
      names.map(n => '<th>' + esc(n) + '</th>').join('') + '<th>Hyperparameters</th></tr>' + rows + '</table>';
  }).join('');
}

let currentRun = null;
async function runView(id) {
  const r = await api('/runs/' + encodeURIComponent(id));
  currentRun = r;
  const steps = r.steps || [];
  const stepRows = steps.map(s => '<tr class="click" onclick="showLogs(\\'' + esc(s.name) + '\\')"><td>' + esc(s.name) + '</td><td>' + pill(s.status) + batchProgress(s.batches) + '</td><td>' + esc(s.attempts ?? '') + '</td>' +
    '<td>' + esc(s.cache && (s.cache.decision || '')) + ' <span class="muted">' + esc(s.cache && (s.cache.reason || (s.cache.reasons || []).join('; '))) +
    (s.reusedFrom ? ' from <a href="#/runs/' + esc(s.reusedFrom.runId) + '">' + esc(s.reusedFrom.runId) + '</a>/' + esc(s.reusedFrom.step) : '') + '</span></td>' +
    '<td>' + dur(s.startedAt, s.finishedAt) + '</td><td>' + esc(s.bestTrial ? bestTrial(s.bestTrial) : lastMetrics(s.metrics)) + '</td>' +
    '<td class="err">' + esc(s.error && (s.error.message || s.error)) + batchErrorList(s.batchErrors) + '</td></tr>').join('');
  $main.innerHTML = '<h2>Run ' + esc(r.runId) + ' ' + pill(r.status) + '</h2>' +
    '<div class="row"><button onclick="act(\\'cancel\\')">Cancel</button><button onclick="act(\\'rerun\\')">Rerun</button>' +
    (['Completed', 'Failed', 'Canceled'].includes(r.status) ? '<button onclick="removeRun()">Delete</button>' : '') + '</div>' +
    '<div class="grid"><span class="muted">Pipeline</span><span><a href="#/pipelines/' + esc(r.pipeline) + '">' + esc(r.pipeline) + '</a>@' + esc(r.version) + '</span>' +
    '<span class="muted">Trigger</span><span>' + esc(JSON.stringify(r.trigger || {})) + '</span>' +
    '<span class="muted">Parameters</span><span>' + esc(JSON.stringify(r.parameters || {})) + '</span>' +
    '<span class="muted">Started</span><span>' + when(r.startedAt || r.createdAt) + ' (' + dur(r.startedAt || r.createdAt, r.finishedAt) + ')</span></div>' +
    dagSvg(steps) +
    '<table><tr><th>Step</th><th>Status</th><th>Attempts</th><th>Cache</th><th>Duration</th><th>Metrics</th><th>Error</th></tr>' + stepRows + '</table>' +
    leaderboards(steps) +
    '<h3 id="logtitle"></h3><pre id="logs" hidden></pre>';
  if (['Queued', 'Running'].includes(r.status)) timer = setTimeout(route, 2000);
}

async function showLogs(step) {
  const el = document.getElementById('logs');
  document.getElementById('logtitle').textContent = 'Logs: ' + step;
  el.hidden = false;
  try {
    const headers = keyInput.value ? { 'x-functions-key': keyInput.value } : {};
    const res = await fetch('/api/runs/' + encodeURIComponent(currentRun.runId) + '/steps/' + encodeURIComponent(step) + '/logs', { headers });
    el.textContent = res.ok ? await res.text() : 'No logs (' + res.status + ')';
  } catch (e) { el.textContent = e.message; }
}

async function removeRun() {
  if (!confirm('Delete run ' + currentRun.runId + ' with its logs and history? Data that other runs or datasets use stays.')) return;
  try { await api('/runs/' + encodeURIComponent(currentRun.runId), { method: 'DELETE' }); location.hash = '#/runs'; }
  catch (e) { alert(e.message); }
}

async function act(what) {
  try { const r = await api('/runs/' + encodeURIComponent(currentRun.runId) + '/' + what, { method: 'POST' });
    if (r && r.runId && r.runId !== currentRun.runId) location.hash = '#/runs/' + r.runId; else route(); }
  catch (e) { alert(e.message); }
}

async function pipelinesView() {
  const data = await api('/pipelines');
  $main.innerHTML = '<h2>Pipelines</h2><table><tr><th>Name</th><th>Default version</th><th>Latest</th><th>Enabled</th><th>Description</th></tr>' +
    (items(data).map(p => '<tr class="click" onclick="location.hash=\\'#/pipelines/' + esc(p.name) + '\\'"><td>' + esc(p.name) + '</td><td>' + esc(p.defaultVersion) +
      '</td><td>' + esc(p.latestVersion) + '</td><td>' + pill(p.enabled !== false) + '</td><td>' + esc(p.description) + '</td></tr>').join('') ||
      '<tr><td colspan=5 class="muted">Nothing published yet: <code>npx sluice publish pipeline.yaml</code></td></tr>') + '</table>';
}

async function pipelineView(name) {
  const p = await api('/pipelines/' + encodeURIComponent(name));
  const v = await api('/pipelines/' + encodeURIComponent(name) + '/versions/' + (p.defaultVersion || p.latestVersion));
  $main.innerHTML = '<h2>' + esc(name) + '</h2><div class="row"><button id="run">Run default version</button> <a href="#/runs?pipeline=' + esc(name) + '">runs</a></div>' +
    '<pre>' + esc(JSON.stringify(p, null, 2)) + '</pre><h3>Definition (v' + esc(v.version) + ')</h3><pre>' + esc(JSON.stringify(v.definition || v, null, 2)) + '</pre>';
  document.getElementById('run').onclick = async () => { try { const r = await api('/pipelines/' + encodeURIComponent(name) + '/runs', { method:'POST', headers:{'content-type':'application/json'}, body:'{}' }); location.hash = '#/runs/' + r.runId; } catch (e) { alert(e.message); } };
}

async function schedulesView() {
  const data = await api('/schedules');
  $main.innerHTML = '<h2>Schedules</h2><table><tr><th>Name</th><th>Pipeline</th><th>Rule</th><th>Enabled</th><th>Next</th></tr>' +
    (items(data).map(s => '<tr><td>' + esc(s.name) + '</td><td>' + esc(s.pipeline) + '</td><td>' + esc(s.cron || JSON.stringify(s.recurrence || '')) + ' ' + esc(s.timeZone || '') +
      '</td><td>' + pill(s.enabled !== false) + '</td><td>' + esc(((s.nextFireTimes || s.next || [])[0]) || '') + '</td></tr>').join('') || '<tr><td colspan=5 class="muted">No schedules.</td></tr>') + '</table>';
}

async function datasetsView() {
  const data = await api('/datasets');
  $main.innerHTML = '<h2>Datasets</h2><table><tr><th>Name</th><th>Latest version</th><th>Hash</th><th>Updated</th></tr>' +
    (items(data).map(d => '<tr><td>' + esc(d.name) + '</td><td>' + esc(d.latestVersion ?? d.version) + '</td><td class="muted">' + esc(d.hash || '') + '</td><td>' + when(d.updatedAt || d.createdAt) + '</td></tr>').join('') ||
      '<tr><td colspan=4 class="muted">No datasets.</td></tr>') + '</table>';
}

async function route() {
  clearTimeout(timer);
  const h = location.hash.replace(/^#/, '').split('?')[0] || '/runs';
  const parts = h.split('/').filter(Boolean).map(decodeURIComponent);
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.getAttribute('href') === '#/' + parts[0]));
  try {
    if (parts[0] === 'runs' && parts[1]) await runView(parts[1]);
    else if (parts[0] === 'pipelines' && parts[1]) await pipelineView(parts[1]);
    else if (parts[0] === 'pipelines') await pipelinesView();
    else if (parts[0] === 'schedules') await schedulesView();
    else if (parts[0] === 'datasets') await datasetsView();
    else await runsView();
  } catch (e) { fail(e); }
}
window.addEventListener('hashchange', route);
route();
</script>
</body>
</html>
`;
