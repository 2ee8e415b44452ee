// The web dashboard: the seed's tray menu as a page, served by the daemon.
// Reads GET /api/v1/status|history|actions (open on loopback), acts through
// the token-protected POSTs. The token never comes from the server: the user
// opens the URL `ruvector-memopt ai dashboard` prints (token in the #fragment,
// which browsers do not send) or pastes it; it is kept in sessionStorage for
// this tab only. All data is written with textContent, never as HTML.
'use strict';

const POLL_MS = 1000;
const KEEP_POINTS = 600;  // 10 minutes at the daemon's default 1 s interval
const TOKEN_KEY = 'ruvector-memopt-token';
const MAX_OTHER_ROWS = 5;
const samples = [];  // {t (s), vramUsed, vramTotal, ramUsed, ramTotal, kv}
let token = null;
let lastStatus = null;

const $ = (sel) => document.querySelector(sel);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function num(v) { return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null; }

// Binary units, as nvidia-smi and Ollama users read them.
function fmtBytes(b) {
  if (num(b) === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

function pct(used, total) { return total > 0 ? Math.round((100 * used) / total) : null; }

function initToken() {
  const m = location.hash.match(/token=([0-9A-Za-z_-]{8,256})/);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    // Drop the token from the address bar and the tab's history.
    window.history.replaceState(null, '', location.pathname + location.search);
  }
  token = sessionStorage.getItem(TOKEN_KEY);
  updateAuth();
}

function updateAuth() {
  $('#auth-state').textContent = token
    ? 'Actions enabled for this tab.'
    : 'Read-only: actions need the API token. Run `ruvector-memopt ai dashboard` and open the URL it prints, or paste the token.';
  for (const b of document.querySelectorAll('[data-needs-token]')) b.disabled = !token;
}

async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status}`);
  return r.json();
}

async function post(path, body) {
  const r = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  let j = {};
  try { j = await r.json(); } catch (_) { /* an empty or non-JSON body: the status says enough */ }
  if (r.status === 401) throw new Error('401: the API token was refused; paste the current one');
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}${j.error ? ': ' + j.error : ''}`);
  return j;
}

function say(text, isError) {
  const m = $('#message');
  m.textContent = text;
  m.className = isError ? 'error' : '';
}

// One row per model a runtime reports loaded (joined to its process by the
// API endpoint), then the AI workloads no runtime API describes, then models
// no scanned process owns, and last the non-AI VRAM holders ("other").
function rows(status) {
  const loaded = Array.isArray(status.loaded_models) ? status.loaded_models : [];
  const workloads = (Array.isArray(status.workloads) ? status.workloads : []).filter((w) => w && typeof w === 'object');
  const used = new Set();
  const out = [];
  const plain = (w) => {
    const est = w.estimate && typeof w.estimate === 'object' ? w.estimate : {};
    const other = w.runtime === 'other';
    return { runtime: other ? 'other' : String(w.runtime_name || w.runtime || ''),
      model: String((other ? w.runtime_name || w.command : w.model) || '–'), vram: num(w.vram_bytes),
      kv: num(est.kv_cache_bytes) !== null ? fmtBytes(est.kv_cache_bytes) + ' (estimate)' : '–', unload: null };
  };
  for (const w of workloads.filter((x) => x.runtime !== 'other')) {
    const mine = loaded.filter((m, i) => m && w.endpoint && m.endpoint === w.endpoint && !used.has(i) && used.add(i));
    for (const m of mine) out.push(modelRow(m, w));
    if (mine.length === 0) out.push(plain(w));
  }
  loaded.forEach((m, i) => { if (m && !used.has(i)) out.push(modelRow(m, null)); });
  // Non-AI VRAM holders: the largest few, then one line for the rest.
  const others = workloads.filter((x) => x.runtime === 'other');
  for (const w of others.slice(0, MAX_OTHER_ROWS)) out.push(plain(w));
  if (others.length > MAX_OTHER_ROWS) {
    const rest = others.slice(MAX_OTHER_ROWS).reduce((a, w) => a + (num(w.vram_bytes) || 0), 0);
    out.push({ runtime: 'other', model: `${others.length - MAX_OTHER_ROWS} more non-AI processes`, vram: rest, kv: '', unload: null });
  }
  return out;
}

function modelRow(m, w) {
  const cap = num(m.kv_cache_bytes), usage = num(m.kv_cache_usage);
  const parts = [];
  if (cap !== null) parts.push(usage !== null ? `${fmtBytes(cap * usage)} of ${fmtBytes(cap)}` : fmtBytes(cap) + (m.kv_estimated ? ' (estimate)' : ''));
  else if (usage !== null) parts.push(`${Math.round(usage * 100)}% used`);
  if (num(m.context_length)) parts.push(`${m.context_length} ctx`);
  const kv = parts.length ? parts.join(' · ') : '–';
  return { runtime: String((w && (w.runtime_name || w.runtime)) || m.runtime || ''), model: String(m.name || ''),
    vram: num(m.vram_bytes), kv, unload: { runtime: String(m.runtime || ''), model: String(m.name || '') } };
}

// KV cache in use over all models where the runtime reports the share used
// (the same sum as the daemon's ruvector_model_kv_cache_used_bytes history).
function kvInUse(status) {
  let kv = 0;
  for (const m of Array.isArray(status.loaded_models) ? status.loaded_models : []) {
    const cap = num(m && m.kv_cache_bytes), usage = num(m && m.kv_cache_usage);
    if (cap !== null && usage !== null && usage <= 1) kv += cap * usage;
  }
  return kv;
}

function render(status) {
  const host = status.host || {};
  const ramTotal = num(host.total_bytes) || 0;
  const ramUsed = Math.max(0, ramTotal - (num(host.available_bytes) || 0));
  const gpus = Array.isArray(status.gpus) ? status.gpus : [];
  let vramUsed = 0, vramTotal = 0;
  for (const g of gpus) { vramUsed += num(g && g.used_bytes) || 0; vramTotal += num(g && g.total_bytes) || 0; }
  const memPct = pct(ramUsed, ramTotal), vramPct = pct(vramUsed, vramTotal);
  $('#summary').textContent = `Memory ${memPct === null ? '–' : memPct}% | VRAM ${vramPct === null ? 'no GPU' : vramPct + '%'}`;

  const tbody = $('#workloads tbody');
  tbody.replaceChildren();
  const list = rows(status);
  for (const r of list) {
    const tr = el('tr');
    tr.append(el('td', r.runtime), el('td', r.model), el('td', fmtBytes(r.vram), 'num'), el('td', r.kv));
    const td = el('td');
    if (r.unload && r.unload.model) {
      const b = el('button', 'Unload');
      b.dataset.needsToken = '';
      b.disabled = !token;
      b.setAttribute('aria-label', `Unload ${r.unload.model}`);
      b.addEventListener('click', () => act(`unload ${r.unload.model}`, '/api/v1/unload', r.unload));
      td.append(b);
    }
    tr.append(td);
    tbody.append(tr);
  }
  $('#no-workloads').hidden = list.length > 0;

  const active = typeof status.profile === 'string' ? status.profile : (status.profile && status.profile.name);
  for (const b of document.querySelectorAll('.profile')) {
    b.classList.toggle('active', b.dataset.profile === active);
    b.setAttribute('aria-checked', String(b.dataset.profile === active));
  }

  const kv = kvInUse(status);
  const t = num(status.taken_at_unix_ms) !== null ? status.taken_at_unix_ms / 1000 : Date.now() / 1000;
  if (!samples.length || samples[samples.length - 1].t < t) {
    samples.push({ t, vramUsed, vramTotal, ramUsed, ramTotal, kv });
    while (samples.length > KEEP_POINTS) samples.shift();
  }
  $('#vram-now').textContent = vramTotal ? `${fmtBytes(vramUsed)} / ${fmtBytes(vramTotal)}` : '(no GPU)';
  $('#ram-now').textContent = `${fmtBytes(ramUsed)} / ${fmtBytes(ramTotal)}`;
  $('#kv-now').textContent = fmtBytes(kv);
  drawCharts();
}

// A line chart on a canvas: values 0..max across the full height, the newest
// sample at the right edge; a grid at each quarter.
function chart(canvas, points, max, color) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const c = canvas.getContext('2d');
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.clearRect(0, 0, w, h);
  c.strokeStyle = 'rgba(128,128,128,0.3)';
  c.lineWidth = 1;
  for (let q = 1; q < 4; q++) {
    const y = Math.round((h * q) / 4) + 0.5;
    c.beginPath(); c.moveTo(0, y); c.lineTo(w, y); c.stroke();
  }
  if (points.length < 2 || !(max > 0)) return;
  const t0 = points[0].t, span = Math.max(points[points.length - 1].t - t0, 1);
  c.strokeStyle = color;
  c.lineWidth = 2;
  c.beginPath();
  points.forEach((p, i) => {
    const x = ((p.t - t0) / span) * (w - 2) + 1;
    const y = h - 1 - (Math.min(p.v, max) / max) * (h - 2);
    if (i === 0) c.moveTo(x, y); else c.lineTo(x, y);
  });
  c.stroke();
}

function drawCharts() {
  const vram = samples.map((p) => ({ t: p.t, v: p.vramTotal ? p.vramUsed / p.vramTotal : 0 }));
  const ram = samples.map((p) => ({ t: p.t, v: p.ramTotal ? p.ramUsed / p.ramTotal : 0 }));
  const kvMax = Math.max(0, ...samples.map((p) => p.kv));
  chart($('#chart-vram'), vram, 1, '#3b82f6');
  chart($('#chart-ram'), ram, 1, '#2e9d4f');
  chart($('#chart-kv'), samples.map((p) => ({ t: p.t, v: p.kv })), kvMax, '#d49a00');
}

// Seeds the charts from the daemon's history: one query per series, summed
// over labels (all GPUs, all models) at each timestamp.
async function loadHistory() {
  const names = ['ruvector_gpu_memory_used_bytes', 'ruvector_gpu_memory_total_bytes',
    'ruvector_host_memory_available_bytes', 'ruvector_host_memory_total_bytes', 'ruvector_model_kv_cache_used_bytes'];
  const sums = names.map(() => new Map());
  await Promise.all(names.map(async (n, k) => {
    try {
      const j = await getJson(`/api/v1/history?series=${n}&since=600`);
      for (const s of Array.isArray(j.series) ? j.series : []) {
        for (const p of Array.isArray(s.points) ? s.points : []) {
          if (Array.isArray(p) && num(p[0]) !== null && num(p[1]) !== null) sums[k].set(p[0], (sums[k].get(p[0]) || 0) + p[1]);
        }
      }
    } catch (_) { /* no history yet: the live samples fill the charts */ }
  }));
  // Only timestamps where every series has a value: a missing one would
  // read as 0 and draw a false spike.
  const ts = [...sums[3].keys()].filter((t) => sums[2].has(t) && sums[0].has(t) === sums[1].has(t))
    .sort((a, b) => a - b);
  for (const t of ts) {
    const ramTotal = sums[3].get(t) || 0;
    samples.push({ t, vramUsed: sums[0].get(t) || 0, vramTotal: sums[1].get(t) || 0,
      ramUsed: Math.max(0, ramTotal - (sums[2].get(t) || 0)), ramTotal, kv: sums[4].get(t) || 0 });
  }
  while (samples.length > KEEP_POINTS) samples.shift();
}

async function loadActions() {
  try {
    const j = await getJson('/api/v1/actions?limit=8');
    const ol = $('#action-log');
    ol.replaceChildren();
    for (const a of Array.isArray(j.actions) ? j.actions : []) {
      const when = num(a.ts_ms) !== null ? new Date(a.ts_ms).toLocaleTimeString() : '';
      const li = el('li', `${when} ${a.kind || ''} ${a.target || ''}: ${a.reason || ''} [${a.outcome || ''}]`);
      if (String(a.outcome || '').startsWith('failed')) li.className = 'failed';
      ol.append(li);
    }
  } catch (_) { /* shown on the next poll */ }
}

async function refresh() {
  try {
    lastStatus = await getJson('/api/v1/status');
    render(lastStatus);
    $('#source').textContent = `${location.host} · updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    $('#source').textContent = `no data: ${e.message}`;
  }
  await loadActions();
}

async function act(label, path, body) {
  say(`${label}…`);
  try {
    const j = await post(path, body);
    let text = `${label}: done`;
    if (j.action && j.action.outcome) text = `${label}: ${j.action.outcome}`;
    if (Array.isArray(j.actions)) text = `${label}: ${j.actions.length} action(s)` + (j.actions.length ? ' — ' + j.actions.map((a) => `${a.kind} ${a.target} [${a.outcome}]`).join('; ') : '');
    if (j.profile && path.endsWith('/profile')) text = `profile: ${j.profile}`;
    say(text, false);
  } catch (e) {
    say(e.message, true);
  }
  await refresh();
}

function wire() {
  $('#optimize').addEventListener('click', () => act('Optimize AI Workload', '/api/v1/optimize', { apply: true }));
  $('#compact').addEventListener('click', () => act('Compact KV Cache', '/api/v1/optimize', { apply: true, kinds: ['resize_context'] }));
  $('#unload-inactive').addEventListener('click', () => act('Unload Inactive Models', '/api/v1/optimize', { apply: true, kinds: ['unload'] }));
  for (const b of document.querySelectorAll('.profile')) {
    b.addEventListener('click', () => act(`profile ${b.dataset.profile}`, '/api/v1/profile', { name: b.dataset.profile }));
  }
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $('#token-input').value.trim();
    if (/^[0-9A-Za-z_-]{8,256}$/.test(v)) {
      sessionStorage.setItem(TOKEN_KEY, v);
      token = v;
      $('#token-input').value = '';
      updateAuth();
      if (lastStatus) render(lastStatus);
    } else {
      say('That does not look like an API token (letters, digits, - and _).', true);
    }
  });
}

async function main() {
  wire();
  initToken();
  // Opening the printed URL in a tab already on the page changes only the
  // fragment: no reload, so read the token here too.
  window.addEventListener('hashchange', () => { initToken(); if (lastStatus) render(lastStatus); });
  await loadHistory();
  await refresh();
  setInterval(refresh, POLL_MS);
}

main();
