// The web dashboard: the seed's tray menu as a page, served by the daemon.
// Reads GET /api/v1/status|history|actions|plan (open on loopback), acts through
// the token-protected POSTs. The token never comes from the server: the user
// opens the URL `ruvector-memopt ai dashboard` prints (token in the #fragment,
// which browsers do not send) or pastes it; it is kept in sessionStorage for
// this tab only. All data is written with textContent, never as HTML.
'use strict';

const POLL_MS = 1000;
const HISTORY_MS = 5000;  // timelines are re-read this often (server-side downsampled)
const TOKEN_KEY = 'ruvector-memopt-token';
const MAX_OTHER_ROWS = 5;
let token = null;
let lastStatus = null;
let range = '5m';
let lastActions = [];

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
      kv: num(est.kv_cache_bytes) !== null ? '~' + fmtBytes(est.kv_cache_bytes) : '–', unload: null };
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
  const est = m.kv_estimated ? '~' : '';
  if (cap !== null) parts.push(usage !== null ? `${est}${fmtBytes(cap * usage)} of ${est}${fmtBytes(cap)}` : est + fmtBytes(cap));
  else if (usage !== null) parts.push(`${Math.round(usage * 100)}% used`);
  // The KV column holds bytes only; the context (tokens) goes with the model.
  const ctx = num(m.context_length) ? ` · ${m.context_length} ctx` : '';
  const kv = parts.length ? parts.join(' · ') : '–';
  return { runtime: String((w && (w.runtime_name || w.runtime)) || m.runtime || ''), model: String(m.name || '') + ctx,
    vram: num(m.vram_bytes), kv, unload: { runtime: String(m.runtime || ''), model: String(m.name || '') } };
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

  renderMap(status);
}

// --- Memory map: one bar per device from the status document's memory_map
// (ui/memory_map.h, built by the daemon from the Snapshot): segments in
// proportion to bytes, estimated ones hatched, free last, the profile's
// thresholds as marks. Each segment's title says owner, figure and source.
const KIND_WORDS = { weights: 'weights', kv_cache: 'KV cache', compute: 'compute buffers',
  model: 'weights + compute', non_ai: 'non-AI processes', unattributed: 'not attributed' };

function share(bytes, total) { return total > 0 ? Math.min(100, (100 * bytes) / total) : 0; }

function segmentText(s) {
  const est = s.estimated ? '~' : '';
  return `${s.owner} — ${KIND_WORDS[s.kind] || s.kind}: ${est}${fmtBytes(s.bytes)}` +
    ` (${s.estimated ? 'estimated' : 'measured'}; ${s.source})`;
}

function renderMap(status) {
  const map = status.memory_map && typeof status.memory_map === 'object' ? status.memory_map : {};
  const devices = (Array.isArray(map.devices) ? map.devices : []).filter((d) => d && typeof d === 'object');
  $('#map-profile').textContent = map.profile ? `Thresholds of profile ${map.profile}.` : '';
  const root = $('#map-devices');
  root.replaceChildren();
  for (const d of devices) {
    const total = num(d.total_bytes) || 0, used = num(d.used_bytes) || 0;
    const box = el('div', undefined, 'device');
    box.dataset.device = String(d.id || '');
    const head = el('div', undefined, 'device-head');
    const name = el('h3', String(d.name || d.id || ''), 'device-name');
    const figs = el('span', `${fmtBytes(used)} / ${fmtBytes(total)}`, 'device-used');
    figs.dataset.usedBytes = String(used);
    figs.dataset.totalBytes = String(total);
    figs.title = `used and total: ${d.source || ''}`;
    head.append(name, figs);
    const bar = el('div', undefined, 'bar');
    bar.setAttribute('role', 'img');
    const segs = (Array.isArray(d.segments) ? d.segments : []).filter((s) => s && num(s.bytes));
    bar.setAttribute('aria-label', `${d.name || d.id}: ${fmtBytes(used)} of ${fmtBytes(total)} used; ` +
      segs.map(segmentText).join('; '));
    for (const s of segs) {
      const seg = el('div', undefined, `seg kind-${String(s.kind).replace(/[^a-z_]/g, '')}${s.estimated ? ' est' : ''}`);
      seg.style.width = `${share(s.bytes, total)}%`;
      seg.dataset.bytes = String(s.bytes);
      seg.title = segmentText(s);
      bar.append(seg);
    }
    const free = el('div', undefined, 'seg free');
    free.style.width = `${share(Math.max(0, total - used), total)}%`;
    free.title = `free: ${fmtBytes(Math.max(0, total - used))}`;
    bar.append(free);
    for (const m of Array.isArray(d.marks) ? d.marks : []) {
      if (!m || num(m.bytes) === null) continue;
      const mk = el('div', undefined, `mark mark-${String(m.name).replace(/[^a-z]/g, '')}`);
      mk.style.left = `${share(m.bytes, total)}%`;
      mk.title = `${m.name} threshold: ${fmtBytes(m.bytes)} (${Math.round(m.percent)}%)`;
      bar.append(mk);
    }
    box.append(head, bar);
    // The same numbers as text, for readers who cannot hover.
    const list = el('ul', undefined, 'seg-list');
    for (const s of segs) list.append(el('li', segmentText(s)));
    const details = el('details');
    details.append(el('summary', 'Numbers and sources'), list);
    box.append(details);
    root.append(box);
  }
}

// --- The plan panel: GET /api/v1/plan returns the document `ai plan --json`
// prints (docs/json/ai-plan.md), planned by the daemon against its latest
// snapshot. The slider asks again (debounced) with another context.
const PLAN_DEBOUNCE_MS = 250;
let planTimer = null;
let planSeq = 0;

function planQuery(ctx) {
  const q = new URLSearchParams();
  q.set('model', $('#plan-model').value.trim());
  if (ctx) q.set('ctx', String(ctx));
  q.set('kv_type', $('#plan-kv').value);
  q.set('parallel', String($('#plan-parallel').value || '1'));
  q.set('flash_attn', $('#plan-fa').value);
  return q.toString();
}

async function requestPlan(ctx, fromSlider) {
  if (!$('#plan-model').value.trim()) return;
  const seq = ++planSeq;
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let r, j = {};
  try {
    r = await fetch(`/api/v1/plan?${planQuery(ctx)}`, { headers, cache: 'no-store' });
    try { j = await r.json(); } catch (_) { /* the status says enough */ }
  } catch (e) {
    if (seq === planSeq) planError(`plan: ${e.message}`);
    return;
  }
  if (seq !== planSeq) return;  // a newer request is on its way
  if (!r.ok) {
    planError(`plan: HTTP ${r.status}${j.error ? ': ' + j.error : ''}`);
    return;
  }
  renderPlan(j, fromSlider);
}

function planError(text) {
  const v = $('#plan-verdict');
  v.textContent = text;
  v.className = 'no-fit';
  $('#plan-result').hidden = false;
  $('#plan-devices').replaceChildren();
  $('#plan-settings').hidden = true;
  $('#plan-settings-none').hidden = true;
  $('#plan-whatif').hidden = true;
}

function deviceLabel(d) {
  return d.kind === 'gpu' ? `GPU ${d.id}${d.name ? ' — ' + d.name : ''}` : 'CPU (RAM)';
}

function renderPlan(doc, fromSlider) {
  const devices = (Array.isArray(doc.devices) ? doc.devices : []).filter((d) => d && typeof d === 'object');
  const settings = doc.settings && typeof doc.settings === 'object' ? doc.settings : {};
  $('#plan-result').hidden = false;
  $('#plan-whatif').hidden = false;
  const v = $('#plan-verdict');
  v.textContent = `${doc.fits ? 'Fits' : 'Does not fit'}: ${doc.verdict || ''}`;
  v.className = doc.fits ? 'fits' : 'no-fit';
  v.dataset.fits = String(doc.fits === true);
  // The what-if slider spans 256 tokens to the trained context.
  const model = doc.model && typeof doc.model === 'object' ? doc.model : {};
  const slider = $('#plan-slider');
  const ctx = num(settings.ctx_per_seq) || 0;
  if (!fromSlider) {
    const trained = num(model.context_length) || 0;
    slider.max = String(Math.max(256, trained || 131072, ctx));
    slider.value = String(ctx);
  }
  $('#plan-slider-value').textContent = String(ctx);
  $('#plan-slider').setAttribute('aria-valuetext', `${ctx} tokens`);
  let kv = 0;
  for (const d of devices) kv += (num(d.kv_bytes) || 0) + (num(d.recurrent_bytes) || 0);
  const kvEl = $('#plan-kv-total');
  kvEl.textContent = fmtBytes(kv);
  kvEl.dataset.bytes = String(kv);
  kvEl.dataset.ctx = String(ctx);
  const maxCtx = doc.max_context_fully_on_gpu && typeof doc.max_context_fully_on_gpu === 'object'
    ? doc.max_context_fully_on_gpu : {};
  const kvType = String(settings.type_k || '');
  const mc = num(maxCtx[kvType]);
  const mcEl = $('#plan-max-ctx');
  mcEl.textContent = mc === null ? '–' : `${mc} tokens (${kvType})`;
  mcEl.dataset.maxCtx = mc === null ? '' : String(mc);

  const root = $('#plan-devices');
  root.replaceChildren();
  for (const d of devices) {
    const limit = num(d.limit_bytes) || 0, total = num(d.total_bytes) || 0;
    const parts = [
      ['weights', 'weights', num(d.weights_bytes) || 0],
      ['kv_cache', 'KV cache', (num(d.kv_bytes) || 0) + (num(d.recurrent_bytes) || 0)],
      ['compute', 'compute', (num(d.compute_bytes) || 0) + (num(d.output_bytes) || 0) + (num(d.overhead_bytes) || 0)],
      ['model', 'draft and projector', (num(d.draft_bytes) || 0) + (num(d.projector_bytes) || 0)],
    ];
    const fits = total <= limit;
    const box = el('div', undefined, 'device plan-device');
    box.dataset.device = d.kind === 'gpu' ? `gpu${d.id}` : 'cpu';
    box.dataset.weightsBytes = String(parts[0][2]);
    box.dataset.kvBytes = String(parts[1][2]);
    box.dataset.computeBytes = String(parts[2][2]);
    box.dataset.totalBytes = String(total);
    box.dataset.limitBytes = String(limit);
    box.dataset.fits = String(fits);
    const head = el('div', undefined, 'device-head');
    head.append(el('h3', deviceLabel(d), 'device-name'),
      el('span', `${fmtBytes(total)} of ${fmtBytes(limit)} usable`, 'device-used'));
    const bar = el('div', undefined, 'bar');
    bar.setAttribute('role', 'img');
    const words = parts.filter((p) => p[2] > 0).map((p) => `${p[1]} ~${fmtBytes(p[2])}`);
    bar.setAttribute('aria-label', `${deviceLabel(d)}: ${words.join(', ')}; ${fmtBytes(total)} of ${fmtBytes(limit)} usable`);
    for (const [kind, word, bytes] of parts) {
      if (!bytes) continue;
      const seg = el('div', undefined, `seg kind-${kind} est`);
      seg.style.width = `${share(bytes, Math.max(limit, total))}%`;
      seg.title = `${word}: ~${fmtBytes(bytes)} (estimated)`;
      bar.append(seg);
    }
    box.append(head, bar);
    const layers = `${num(d.layers) || 0} layer${d.layers === 1 ? '' : 's'}${d.holds_output ? ' + output' : ''}`;
    const fig = el('p', undefined, 'plan-figures');
    fig.append(el('span', fits ? 'fits' : 'does not fit', `plan-fit${fits ? '' : ' no'}`),
      document.createTextNode(` · ${layers} · ` + parts.filter((p) => p[2] > 0 || p[0] !== 'model')
        .map((p) => `${p[1]} ${p[2] > 0 ? '~' : ''}${fmtBytes(p[2])}`).join(' · ')));
    box.append(fig);
    root.append(box);
  }

  const launch = doc.launch && typeof doc.launch === 'object' ? doc.launch : {};
  const args = Array.isArray(launch.llama_cpp_args) ? launch.llama_cpp_args.map(String) : [];
  const pairs = (o) => (o && typeof o === 'object' ? Object.entries(o).map(([k, x]) => `${k}=${x}`) : []);
  const paste = doc.fits && args.length > 0;
  $('#plan-settings').hidden = !paste;
  $('#plan-settings-none').hidden = paste;
  $('#plan-llama').textContent = args.join(' ');
  const oo = pairs(launch.ollama_options).map((kv) => `PARAMETER ${kv.replace('=', ' ')}`);
  // As `ai plan --emit ollama` writes them: FROM the model as typed.
  $('#plan-ollama').textContent = [`FROM ${$('#plan-model').value.trim()}`, ...oo,
    `# ollama serve environment: ${pairs(launch.env).join(' ')}`].join('\n');
  const notes = $('#plan-notes');
  notes.replaceChildren();
  for (const w of [...(Array.isArray(doc.warnings) ? doc.warnings : []), ...(Array.isArray(doc.notes) ? doc.notes : [])]) {
    notes.append(el('li', String(w)));
  }
}

function wirePlan() {
  $('#plan-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const c = Number($('#plan-ctx').value);
    requestPlan(Number.isInteger(c) && c > 0 ? c : null, false);
  });
  $('#plan-slider').addEventListener('input', () => {
    const c = Number($('#plan-slider').value);
    $('#plan-slider-value').textContent = String(c);
    $('#plan-ctx').value = String(c);
    clearTimeout(planTimer);
    planTimer = setTimeout(() => requestPlan(c, true), PLAN_DEBOUNCE_MS);
  });
}

// --- Timelines: per GPU and for RAM, from GET /api/v1/history?range=…
// (downsampled by the daemon), with a byte axis, a time axis, the profile's
// thresholds as dashed lines and a marker per policy action.
const SERIES = ['ruvector_gpu_memory_used_bytes', 'ruvector_gpu_memory_total_bytes',
  'ruvector_host_memory_available_bytes', 'ruvector_host_memory_total_bytes'];

function gpuOfLabels(labels) {
  const m = /gpu="(\d+)"/.exec(String(labels || ''));
  return m ? Number(m[1]) : null;
}

function points(series) {
  return (Array.isArray(series && series.points) ? series.points : [])
    .filter((p) => Array.isArray(p) && num(p[0]) !== null && num(p[1]) !== null);
}

async function loadTimelines() {
  let answers;
  try {
    answers = await Promise.all(SERIES.map((n) => getJson(`/api/v1/history?series=${n}&range=${range}`)));
  } catch (e) {
    $('#timelines').replaceChildren(el('p', `no history: ${e.message}`, 'dim'));
    return;
  }
  const from = num(answers[0].from), to = num(answers[0].to);
  if (from === null || to === null || !lastStatus) return;
  const devices = (lastStatus.memory_map && Array.isArray(lastStatus.memory_map.devices))
    ? lastStatus.memory_map.devices : [];
  const lines = [];
  for (const d of devices) {
    if (!d || typeof d !== 'object') continue;
    if (d.id === 'ram') {
      const avail = new Map(points((answers[2].series || [])[0]).map((p) => [p[0], p[1]]));
      const pts = points((answers[3].series || [])[0]).filter((p) => avail.has(p[0]))
        .map((p) => [p[0], Math.max(0, p[1] - avail.get(p[0]))]);
      lines.push({ d, pts, total: num(d.total_bytes) || 0, gpu: null });
    } else {
      const idx = Number(String(d.id).replace(/^gpu/, ''));
      const s = (answers[0].series || []).find((x) => gpuOfLabels(x.labels) === idx);
      lines.push({ d, pts: points(s), total: num(d.total_bytes) || 0, gpu: idx });
    }
  }
  const root = $('#timelines');
  root.replaceChildren();
  for (const l of lines) root.append(timeline(l, from, to));
}

function axisTime(t, span) {
  const d = new Date(t * 1000);
  const two = (n) => String(n).padStart(2, '0');
  if (span > 2 * 86400) return `${d.getMonth() + 1}/${d.getDate()} ${two(d.getHours())}h`;
  if (span <= 600) return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `${two(d.getHours())}:${two(d.getMinutes())}`;
}

function actionText(a) {
  const when = num(a.ts_ms) !== null ? new Date(a.ts_ms).toLocaleString() : '';
  const bytes = num(a.expected_bytes) ? `; expected to free ${fmtBytes(a.expected_bytes)}` : '';
  return `${when}: ${a.kind || ''} ${a.target || ''} — why: ${a.reason || ''}; result: ${a.outcome || ''}${bytes}`;
}

const PAD = { left: 64, right: 8, top: 8, bottom: 22 };

function timeline(l, from, to) {
  const fig = el('figure', undefined, 'timeline');
  fig.dataset.device = String(l.d.id || '');
  const cap = el('figcaption', `${l.d.name || l.d.id} — ${l.pts.length ? fmtBytes(l.pts[l.pts.length - 1][1]) : '–'} / ${fmtBytes(l.total)}`);
  const wrap = el('div', undefined, 'plot');
  const canvas = el('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${l.d.name || l.d.id} memory used over the last ${range}`);
  wrap.append(canvas);
  fig.append(cap, wrap);
  // Drawn once the figure is in the page (its width is known then).
  requestAnimationFrame(() => drawTimeline(canvas, l, from, to));
  const span = Math.max(1, to - from);
  for (const a of lastActions) {
    if (!a || num(a.ts_ms) === null) continue;
    const t = a.ts_ms / 1000;
    if (t < from || t > to) continue;
    const mine = l.gpu === null ? a.host_ram === true : (!a.host_ram && (a.gpu === l.gpu || !(a.gpu >= 0)));
    if (!mine) continue;
    const mk = el('button', undefined, `marker${String(a.outcome || '').startsWith('failed') ? ' failed' : ''}`);
    mk.style.left = `calc(${PAD.left}px + (100% - ${PAD.left + PAD.right}px) * ${(t - from) / span})`;
    mk.title = actionText(a);
    mk.setAttribute('aria-label', actionText(a));
    mk.dataset.reason = String(a.reason || '');
    wrap.append(mk);
  }
  return fig;
}

function niceStep(max) {
  const raw = max / 4, p = Math.pow(1024, Math.floor(Math.log(Math.max(raw, 1)) / Math.log(1024)));
  for (const m of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]) if (m * p >= raw) return m * p;
  return raw;
}

function drawTimeline(canvas, l, from, to) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600, h = canvas.clientHeight || 140;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const c = canvas.getContext('2d');
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.clearRect(0, 0, w, h);
  const fg = getComputedStyle(document.body).color;
  const max = l.total > 0 ? l.total : Math.max(1, ...l.pts.map((p) => p[1]));
  const pw = w - PAD.left - PAD.right, ph = h - PAD.top - PAD.bottom, span = Math.max(1, to - from);
  const x = (t) => PAD.left + ((t - from) / span) * pw;
  const y = (v) => PAD.top + ph - (Math.min(v, max) / max) * ph;
  c.font = '11px system-ui, sans-serif';
  c.fillStyle = fg;
  c.strokeStyle = 'rgba(128,128,128,0.35)';
  c.lineWidth = 1;
  // Byte axis: gridlines at binary steps, labelled.
  const step = niceStep(max);
  c.textAlign = 'right';
  c.textBaseline = 'middle';
  for (let v = 0; v <= max + 1; v += step) {
    const yy = Math.round(y(v)) + 0.5;
    c.beginPath(); c.moveTo(PAD.left, yy); c.lineTo(w - PAD.right, yy); c.stroke();
    c.fillText(fmtBytes(v), PAD.left - 4, yy);
  }
  // Time axis: a tick per ~110 px, so labels never overlap.
  c.textBaseline = 'top';
  const ticks = Math.max(1, Math.min(6, Math.floor(pw / 110)));
  for (let k = 0; k <= ticks; k++) {
    const t = from + (span * k) / ticks;
    c.textAlign = k === 0 ? 'left' : k === ticks ? 'right' : 'center';
    c.fillText(axisTime(t, span), x(t), h - PAD.bottom + 4);
  }
  // Thresholds: dashed, in the colours of the map's marks.
  const colors = { compact: '#d49a00', reserve: '#7c3aed', offload: '#d0342c' };
  c.setLineDash([5, 4]);
  for (const m of Array.isArray(l.d.marks) ? l.d.marks : []) {
    if (!m || num(m.bytes) === null) continue;
    c.strokeStyle = colors[m.name] || fg;
    const yy = Math.round(y(m.bytes)) + 0.5;
    c.beginPath(); c.moveTo(PAD.left, yy); c.lineTo(w - PAD.right, yy); c.stroke();
  }
  c.setLineDash([]);
  if (l.pts.length === 0) return;
  c.strokeStyle = l.gpu === null ? '#2e9d4f' : '#3b82f6';
  c.lineWidth = 2;
  c.beginPath();
  l.pts.forEach((p, i) => { if (i === 0) c.moveTo(x(p[0]), y(p[1])); else c.lineTo(x(p[0]), y(p[1])); });
  if (l.pts.length === 1) c.lineTo(x(l.pts[0][0]) + 2, y(l.pts[0][1]));
  c.stroke();
}

// A canvas keeps the pixel size it was drawn at: redraw when the width changes.
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(loadTimelines, 150);
});

function wireRanges() {
  for (const b of document.querySelectorAll('.range')) {
    b.addEventListener('click', () => {
      range = b.dataset.range;
      for (const o of document.querySelectorAll('.range')) o.setAttribute('aria-pressed', String(o === b));
      loadTimelines();
    });
  }
}

// --- Gateway: the serve gateway's models from status.gateway (null: none configured).
function fmtWait(s) {
  if (num(s) === null) return '–';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function renderGateway(status) {
  const g = status && typeof status.gateway === 'object' ? status.gateway : null;
  const section = $('#gateway');
  section.hidden = !g;
  if (!g) return;
  const models = g.reachable && Array.isArray(g.models) ? g.models : [];
  $('#gateway-state').textContent = g.reachable
    ? `${String(g.listen || '')}: ${models.length} model${models.length === 1 ? '' : 's'}`
    : `${String(g.listen || '')}: not reachable (${String(g.error || 'no answer')})`;
  $('#gateway-state').className = g.reachable ? 'dim' : 'gateway-error';
  const tbody = $('#gateway-models tbody');
  tbody.replaceChildren();
  for (const m of models) {
    if (!m || typeof m !== 'object') continue;
    const planned = Array.isArray(m.planned_bytes) ? m.planned_bytes.reduce((a, b) => a + (num(b) || 0), 0) : null;
    const state = String(m.state || '');
    const tr = el('tr');
    tr.dataset.model = String(m.name || '');
    tr.append(el('td', String(m.name || '')), el('td', state, `gw-state gw-${state.replace(/[^a-z]/g, '')}`),
              el('td', num(m.pid) === null ? '–' : String(m.pid), 'num'),
              el('td', num(m.queued) === null ? '–' : String(m.queued), 'num'),
              el('td', num(m.queued) ? fmtWait(m.oldest_wait_seconds) : '–', 'num'),
              el('td', fmtWait(m.mean_wait_seconds), 'num'),
              el('td', planned ? fmtBytes(planned) : '–', 'num'));
    if (m.last_error) tr.title = String(m.last_error);
    tbody.append(tr);
  }
  // The image-generation handoff: the status document's one sentence.
  const h = g.reachable && g.handoff && typeof g.handoff === 'object' ? g.handoff : null;
  const line = $('#gateway-handoff');
  line.hidden = !h;
  line.textContent = h ? `Image renders: ${String(h.summary || '')}` : '';
  line.className = h && h.holding === true ? 'holding' : 'dim';
}

async function loadActions() {
  try {
    const j = await getJson('/api/v1/actions?limit=8');
    lastActions = Array.isArray(j.actions) ? j.actions : [];
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
    renderGateway(lastStatus);
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
  wireRanges();
  wirePlan();
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
  await refresh();
  await loadTimelines();
  setInterval(refresh, POLL_MS);
  setInterval(loadTimelines, HISTORY_MS);
}

main();
