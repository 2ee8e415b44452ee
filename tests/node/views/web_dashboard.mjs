// End to end: the web dashboard in Debian's Chromium (headless, driven by
// playwright-core) against the real daemon running on fixture roots, with a
// replay Ollama (fixtures/ollama-ps.json) as its runtime.
// Checks: the page renders the daemon's data (header, AI Mode rows, profile),
// actions are disabled without the token, the token from the URL fragment
// enables them and leaves the address bar, a click on Unload reaches Ollama as
// POST /api/generate {"model", "keep_alive": 0} and the row disappears, the
// profile switcher persists the choice; a screenshot is saved.
// Also: `ai dashboard` prints the URL with the token.
// The views (issue 18): for each fixture GPU its name and used / total bytes
// in the memory map equal the status document; each bar's segments add up to
// its used bytes within one pixel; thresholds are marked; the unload shows as
// a marker on the timeline with its reason; the 5m..7d ranges come from the
// daemon's downsampled history; screenshots at 360, 1280 and 2560 px; axe-core
// finds no serious or critical violation (light and dark).
// The plan panel (issue 18): its bytes per device, fits and largest context
// equal `ai plan --json` on the same fixture GPUs; the slider re-plans.
// Usage: node web_dashboard.mjs BINARY SHARED_FIXTURES GPU_FIXTURE FAKE_NVML OUT_DIR MAKE_SAMPLE_GGUF
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// axe-core from tests/node/node_modules (npm, pinned in package.json).
// Waits until fn(arg), run in the page, is truthy; rejects after timeout ms.
// Playwright's page.waitForFunction is not used: it re-runs its predicate from
// the page's own timers, where the dashboard's CSP (script-src 'self', no
// 'unsafe-eval') can refuse it and the refusal lands as a page error (seen on
// CI). Each page.evaluate here runs inside one DevTools call, which CSP allows.
async function waitInPage(page, fn, arg, { timeout = 10000 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    let last = 'false';
    try {
      if (await page.evaluate(fn, arg)) return true;
    } catch (e) { last = String(e); } // e.g. a reload replaced the document: ask again
    if (Date.now() > end) throw new Error(`waitInPage: ${last} after ${timeout} ms: ${String(fn).slice(0, 120)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const axeSource = readFileSync(createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'))
  .resolve('axe-core/axe.min.js'), 'utf8');

const [bin, fixtures, gpuFixture, fakeNvml, outDir, makeSampleGguf] = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), 'memopt-web-'));
// The model the plan panel plans: the sample GGUF the build ships (llama,
// 4 layers, Q8_0, 4096 trained context), written here.
const modelPath = join(work, 'sample.gguf');
execFileSync(makeSampleGguf, [modelPath]);
mkdirSync(outDir, { recursive: true });
const failures = [];
function check(cond, what) {
  if (!cond) failures.push(what);
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
}
// Every wait is bounded: a hung daemon or page fails the test, never hangs it.
setTimeout(() => { console.error('web_dashboard: timed out'); cleanup(); process.exit(1); }, 150000).unref();

// --- Replay Ollama: /api/version, /api/ps from the shared fixtures; records
// each POST /api/generate and drops an unloaded model from /api/ps.
const ps = JSON.parse(readFileSync(join(fixtures, 'ollama-ps.json'), 'utf8'));
const version = readFileSync(join(fixtures, 'ollama-version.json'), 'utf8');
const unloadReply = readFileSync(join(fixtures, 'ollama-generate-unload.json'), 'utf8');
const generates = [];
const ollama = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const json = (code, text) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(text); };
    if (req.method === 'GET' && req.url === '/api/version') return json(200, version);
    if (req.method === 'GET' && req.url === '/api/ps') return json(200, JSON.stringify(ps));
    if (req.method === 'GET' && req.url === '/') return json(200, '"Ollama is running"');
    if (req.method === 'POST' && req.url === '/api/generate') {
      let b = {};
      try { b = JSON.parse(body); } catch (_) { return json(400, '{"error":"bad json"}'); }
      generates.push(b);
      if (b.keep_alive === 0) ps.models = ps.models.filter((m) => m.name !== b.model && m.model !== b.model);
      return json(200, unloadReply);
    }
    json(404, '{"error":"not found"}');
  });
});
await new Promise((r) => ollama.listen(0, '127.0.0.1', r));
const ollamaPort = ollama.address().port;

// --- Replay gateway (`serve`): GET /serve/state answers the recorded
// document (tests/fixtures/serve/serve-state.json); the daemon reads it via --gateway.
// With a render running on a ComfyUI (the handoff section as the gateway
// serves it, src/serve/gateway.cc): the panel shows the handoff's line.
const serveStateDoc = JSON.parse(readFileSync(join(fixtures, '..', 'serve', 'serve-state.json'), 'utf8'));
serveStateDoc.handoff = { enabled: true, phase: 'rendering', mode: 'queue', handoffs: 3, requests_held: 2,
  requests_rejected: 0, servers: [{ runtime: 'comfyui', url: 'http://127.0.0.1:8188', running: 1, pending: 1 }] };
const serveState = JSON.stringify(serveStateDoc);
const replayGateway = createServer((req, res) => {
  const ok = req.method === 'GET' && req.url === '/serve/state';
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
  res.end(ok ? serveState : '{"error":"not found"}');
});
await new Promise((r) => replayGateway.listen(0, '127.0.0.1', r));
const gatewayPort = replayGateway.address().port;

// A free loopback port for the daemon's API.
const apiPort = await new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

const stateDir = join(work, 'state');
const daemon = spawn(bin, ['--proc-root', join(gpuFixture, 'proc'), '--sys-root', join(gpuFixture, 'sys'),
  '--nvml-library', fakeNvml, 'daemon', '--listen', `127.0.0.1:${apiPort}`, '--interval', '0.5',
  '--state-dir', stateDir, '--config', join(work, 'config.toml'), '--no-probe',
  '--gateway', `127.0.0.1:${gatewayPort}`], {
  env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${ollamaPort}`, XDG_STATE_HOME: join(work, 'xdg-state'),
    XDG_CONFIG_HOME: join(work, 'xdg-config') },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let daemonLog = '';
daemon.stdout.on('data', (d) => { daemonLog += d; });
daemon.stderr.on('data', (d) => { daemonLog += d; });

let browser;
function cleanup() {
  try { daemon.kill('SIGTERM'); } catch (_) { /* already gone */ }
  try { ollama.close(); } catch (_) { /* already closed */ }
  try { replayGateway.close(); } catch (_) { /* already closed */ }
  rmSync(work, { recursive: true, force: true });
}

const base = `http://127.0.0.1:${apiPort}`;
try {
  // Wait for the API and its first sample.
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    try {
      const r = await fetch(`${base}/api/v1/status`);
      ready = r.ok;
    } catch (_) { /* not listening yet */ }
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) throw new Error(`daemon API never answered on ${base}\n${daemonLog}`);
  const tokenPath = join(stateDir, 'api_token');
  check(existsSync(tokenPath), 'daemon wrote its token file');
  const token = readFileSync(tokenPath, 'utf8').trim();

  // A fresh profile directory: playwright takes it as launchPersistentContext's
  // userDataDir (it refuses --user-data-dir in args).
  browser = await chromium.launchPersistentContext(join(work, 'chromium'), {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1000, height: 1100 },
  });
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const offsite = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) offsite.push(r.url()); });

  // 1. Without a token: data shows, actions are disabled.
  await page.goto(`${base}/`);
  await waitInPage(page, () => document.querySelectorAll('#workloads tbody tr').length >= 3, null, { timeout: 15000 });
  const summary = await page.textContent('#summary');
  check(/^Memory \d+% \| VRAM \d+%$/.test(summary), `header reads "Memory N% | VRAM N%" (${summary})`);
  // The fixture GPUs (fake NVML + AMD sysfs) and host memory give exact shares.
  const status = await (await fetch(`${base}/api/v1/status`)).json();
  const used = status.gpus.reduce((a, g) => a + g.used_bytes, 0), total = status.gpus.reduce((a, g) => a + g.total_bytes, 0);
  const ramPct = Math.round(100 * (status.host.total_bytes - status.host.available_bytes) / status.host.total_bytes);
  check(summary === `Memory ${ramPct}% | VRAM ${Math.round(100 * used / total)}%`, `header matches the daemon's status (${summary})`);
  // The daemon's status carries the GPU telemetry the views show (fake NVML: RTX 4090 at 62 C, 250.5 W).
  check(status.gpus[0].temperature_c === 62 && status.gpus[0].power_draw_watts === 250.5 && status.gpus[0].throttle.thermal === true,
    `status gpus[0] telemetry (${JSON.stringify(status.gpus[0])})`);
  const rowsText = await page.$$eval('#workloads tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
  check(rowsText.some((t) => t.includes('qwen3:8b') && t.includes('7.0 GiB')), `qwen3:8b row with 7.0 GiB VRAM (${rowsText.join(' / ')})`);
  check(rowsText.some((t) => t.includes('gemma3:27b') && t.includes('16.0 GiB') && t.includes('4096 ctx')), 'gemma3:27b row with 16.0 GiB VRAM and its context');
  check(rowsText.some((t) => t.includes('nomic-embed-text:latest') && t.includes('810.0 MiB')), 'nomic-embed-text row with 810.0 MiB');
  check(await page.isDisabled('#optimize'), 'actions disabled without a token');
  check(await page.getAttribute('.profile[data-profile="local_llm"]', 'aria-checked') === 'true', 'active profile local_llm marked');

  // 1b. The plan panel: a GGUF made here, planned by the daemon on the
  //     fixture GPUs, shows the numbers `ai plan --json` gives for the same
  //     model and settings on the same GPUs (before any profile change: both
  //     plan with local_llm's reserve). The slider re-plans, debounced.
  const cliPlan = (ctx) => JSON.parse(execFileSync(bin, ['--proc-root', join(gpuFixture, 'proc'),
    '--sys-root', join(gpuFixture, 'sys'), '--nvml-library', fakeNvml, '--json', 'ai', 'plan', modelPath,
    '--ctx', String(ctx), '--kv-type', 'q8_0', '--parallel', '2', '--flash-attn', 'on'],
  { encoding: 'utf8', env: { ...process.env, XDG_STATE_HOME: join(work, 'xdg-state'), XDG_CONFIG_HOME: join(work, 'xdg-config') } }));
  const planRequests = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/plan?')) planRequests.push(r.url()); });
  const readPanel = () => page.evaluate(() => ({
    verdict: document.querySelector('#plan-verdict').textContent,
    fits: document.querySelector('#plan-verdict').dataset.fits,
    kv: Number(document.querySelector('#plan-kv-total').dataset.bytes),
    ctx: Number(document.querySelector('#plan-kv-total').dataset.ctx),
    maxCtx: Number(document.querySelector('#plan-max-ctx').dataset.maxCtx),
    llama: document.querySelector('#plan-llama').textContent,
    ollama: document.querySelector('#plan-ollama').textContent,
    devices: [...document.querySelectorAll('#plan-devices .plan-device')].map((d) => ({
      id: d.dataset.device, weights: Number(d.dataset.weightsBytes), kv: Number(d.dataset.kvBytes),
      compute: Number(d.dataset.computeBytes), total: Number(d.dataset.totalBytes),
      limit: Number(d.dataset.limitBytes), fits: d.dataset.fits === 'true' })),
  }));
  const expectDevices = (doc) => doc.devices.map((d) => ({ id: d.kind === 'gpu' ? `gpu${d.id}` : 'cpu',
    weights: d.weights_bytes, kv: d.kv_bytes + d.recurrent_bytes,
    compute: d.compute_bytes + d.output_bytes + d.overhead_bytes, total: d.total_bytes, limit: d.limit_bytes,
    fits: d.total_bytes <= d.limit_bytes }));
  const cli2048 = cliPlan(2048);
  await page.fill('#plan-model', modelPath);
  await page.fill('#plan-ctx', '2048');
  await page.selectOption('#plan-kv', 'q8_0');
  await page.fill('#plan-parallel', '2');
  await page.click('#plan-submit');
  await waitInPage(page, () => document.querySelector('#plan-kv-total').dataset.ctx === '2048', null, { timeout: 10000 });
  let panel = await readPanel();
  const api2048 = await (await fetch(`${base}/api/v1/plan?model=${encodeURIComponent(modelPath)}&ctx=2048&kv_type=q8_0&parallel=2&flash_attn=on`)).json();
  check(JSON.stringify(api2048) === JSON.stringify(cli2048), 'GET /api/v1/plan returns the document `ai plan --json` prints for the same model, settings and GPUs');
  check(cli2048.devices.filter((d) => d.kind === 'gpu').length >= 2 && cli2048.fits === true,
    `the plan uses the fixture GPUs and fits (${cli2048.devices.map((d) => d.name || d.kind).join(', ')})`);
  check(JSON.stringify(panel.devices) === JSON.stringify(expectDevices(cli2048)),
    `panel: weights / KV / compute / total / limit bytes and fits per device equal ai plan --json (${JSON.stringify(panel.devices)})`);
  const kvOf = (doc) => doc.devices.reduce((a, d) => a + d.kv_bytes + d.recurrent_bytes, 0);
  check(panel.kv === kvOf(cli2048) && panel.kv > 0, `panel KV ${panel.kv} B = ai plan --json ${kvOf(cli2048)} B`);
  check(panel.maxCtx === cli2048.max_context_fully_on_gpu.q8_0 && panel.maxCtx > 0,
    `panel largest context ${panel.maxCtx} = ai plan --json ${cli2048.max_context_fully_on_gpu.q8_0}`);
  check(panel.fits === 'true' && panel.verdict.includes(cli2048.verdict), `panel verdict (${panel.verdict})`);
  const emitted = execFileSync(bin, ['--proc-root', join(gpuFixture, 'proc'), '--sys-root', join(gpuFixture, 'sys'),
    '--nvml-library', fakeNvml, 'ai', 'plan', modelPath, '--ctx', '2048', '--kv-type', 'q8_0', '--parallel', '2',
    '--emit', 'llama-args'], { encoding: 'utf8', env: { ...process.env, XDG_STATE_HOME: join(work, 'xdg-state'),
    XDG_CONFIG_HOME: join(work, 'xdg-config') } }).trim();
  check(panel.llama === emitted, `settings to paste: llama.cpp arguments = ai plan --emit llama-args (${panel.llama})`);
  const ollamaEmit = execFileSync(bin, ['--proc-root', join(gpuFixture, 'proc'), '--sys-root', join(gpuFixture, 'sys'),
    '--nvml-library', fakeNvml, 'ai', 'plan', modelPath, '--ctx', '2048', '--kv-type', 'q8_0', '--parallel', '2',
    '--emit', 'ollama'], { encoding: 'utf8', env: { ...process.env, XDG_STATE_HOME: join(work, 'xdg-state'),
    XDG_CONFIG_HOME: join(work, 'xdg-config') } }).trim();
  check(panel.ollama === ollamaEmit, `settings to paste: Ollama lines = ai plan --emit ollama (${JSON.stringify(panel.ollama)})`);
  // What-if: three quick moves of the slider, one request (debounced), and
  // the KV figure becomes what `ai plan --json --ctx 1024` says.
  const before = planRequests.length;
  for (const v of ['1536', '1280', '1024']) {
    await page.$eval('#plan-slider', (e, val) => { e.value = val; e.dispatchEvent(new Event('input', { bubbles: true })); }, v);
  }
  await waitInPage(page, () => document.querySelector('#plan-kv-total').dataset.ctx === '1024', null, { timeout: 10000 });
  await page.waitForTimeout(400);
  const cli1024 = cliPlan(1024);
  panel = await readPanel();
  check(planRequests.length - before === 1 && /ctx=1024/.test(planRequests[planRequests.length - 1]),
    `the slider re-plans once, debounced (${planRequests.slice(before).join(' ')})`);
  check(panel.kv === kvOf(cli1024) && panel.kv < kvOf(cli2048),
    `after the slider: KV ${panel.kv} B = ai plan --json --ctx 1024 ${kvOf(cli1024)} B (was ${kvOf(cli2048)} B)`);
  check(JSON.stringify(panel.devices) === JSON.stringify(expectDevices(cli1024)), 'after the slider: every device equals ai plan --json --ctx 1024');
  // Hostile input is a 4xx naming the problem, shown on the panel.
  await page.fill('#plan-model', join(work, 'no-such-model.gguf'));
  await page.click('#plan-submit');
  const refusedPlan = await waitInPage(page, () => /HTTP 422: no GGUF file at/.test(document.querySelector('#plan-verdict').textContent),
    null, { timeout: 10000 }).then(() => true, () => false);
  check(refusedPlan, 'a missing model file is reported on the panel as 422 with the reason');

  // 2. The URL `ai dashboard` prints (token in the fragment): actions
  //    enabled, the fragment removed from the address bar.
  const printed = execFileSync(bin, ['ai', 'dashboard', '--listen', `127.0.0.1:${apiPort}`, '--state-dir', stateDir],
    { encoding: 'utf8' });
  const url = (printed.match(/http:\/\/\S+/) || [''])[0];
  check(url === `${base}/#token=${token}`, `ai dashboard prints the URL with the token (${url.replace(token, '<token>')})`);
  await page.goto(url);
  await waitInPage(page, () => !document.querySelector('#optimize').disabled, null, { timeout: 10000 });
  check(!page.url().includes('token'), `token removed from the address bar (${page.url()})`);
  await page.waitForSelector('button[aria-label="Unload qwen3:8b"]', { timeout: 10000 });

  // 3. Unload qwen3:8b: Ollama sees keep_alive 0, the row goes away.
  await page.click('button[aria-label="Unload qwen3:8b"]');
  await waitInPage(page, () => /unload qwen3:8b: ok/.test(document.querySelector('#message').textContent), null, { timeout: 10000 })
    .catch(() => {});
  const msg = await page.textContent('#message');
  check(/unload qwen3:8b: ok/.test(msg), `page reports the unload (${msg})`);
  check(generates.some((g) => g.model === 'qwen3:8b' && g.keep_alive === 0), `Ollama got POST /api/generate {"model":"qwen3:8b","keep_alive":0} (${JSON.stringify(generates)})`);
  const gone = await waitInPage(page, () => ![...document.querySelectorAll('#workloads tbody tr')].some((tr) => tr.innerText.includes('qwen3:8b')), null, { timeout: 10000 })
    .then(() => true, () => false);
  check(gone, 'qwen3:8b row disappears after the unload');
  const logged = await waitInPage(page, () => /unload ollama\/qwen3:8b/.test(document.querySelector('#action-log').textContent), null, { timeout: 10000 })
    .then(() => true, () => false);
  check(logged, 'the action log lists the unload');

  // 4. Profile switcher: Batch Inference becomes active and is persisted.
  await page.click('.profile[data-profile="batch_inference"]');
  const switched = await waitInPage(page, () => document.querySelector('.profile[data-profile="batch_inference"]').classList.contains('active'), null, { timeout: 10000 })
    .then(() => true, () => false);
  check(switched, 'Batch Inference shown as the active profile');
  const persisted = existsSync(join(stateDir, 'active_profile')) ? readFileSync(join(stateDir, 'active_profile'), 'utf8').trim() : '';
  check(persisted === 'batch_inference', `active profile persisted (${persisted})`);

  // 5. A wrong token is refused with a message, not silently.
  await page.evaluate(() => sessionStorage.setItem('ruvector-memopt-token', 'wrong-token-123'));
  await page.reload();
  await waitInPage(page, () => !document.querySelector('#optimize').disabled, null, { timeout: 10000 });
  await page.click('#optimize');
  const refused = await waitInPage(page, () => /401/.test(document.querySelector('#message').textContent), null, { timeout: 10000 })
    .then(() => true, () => false);
  check(refused, 'a wrong token is reported as 401');
  await page.evaluate((t) => sessionStorage.setItem('ruvector-memopt-token', t), token);
  await page.reload();
  await waitInPage(page, () => document.querySelectorAll('#workloads tbody tr').length >= 2, null, { timeout: 10000 });
  await page.waitForTimeout(1500);  // a few live samples on the charts

  // 6. The memory map: per device, name and used / total equal the API's
  //    document; segments add up to used within one pixel; marks drawn.
  const doc = await (await fetch(`${base}/api/v1/status`)).json();
  const mapDevices = (doc.memory_map && doc.memory_map.devices) || [];
  check(mapDevices.filter((d) => d.id !== 'ram').length === doc.gpus.length && doc.gpus.length >= 2,
    `the status document maps every GPU (${mapDevices.map((d) => d.id).join(', ')})`);
  await waitInPage(page, (n) => document.querySelectorAll('#map-devices .device').length === n,
    mapDevices.length, { timeout: 10000 });
  const shown = await page.$$eval('#map-devices .device', (ds) => ds.map((d) => {
    const bar = d.querySelector('.bar');
    const inner = bar.clientWidth;  // without the border
    const segs = [...bar.querySelectorAll('.seg:not(.free)')];
    return { id: d.dataset.device, name: d.querySelector('.device-name').textContent,
      used: Number(d.querySelector('.device-used').dataset.usedBytes),
      total: Number(d.querySelector('.device-used').dataset.totalBytes),
      text: d.querySelector('.device-used').textContent,
      segPx: segs.reduce((a, s) => a + s.getBoundingClientRect().width, 0), inner,
      segBytes: segs.reduce((a, s) => a + Number(s.dataset.bytes), 0),
      kinds: segs.map((s) => s.className), titles: segs.map((s) => s.title),
      marks: [...bar.querySelectorAll('.mark')].map((m) => m.className) };
  }));
  for (const g of doc.gpus) {
    const dev = mapDevices.find((d) => d.id === `gpu${g.index}`);
    const dom = shown.find((d) => d.id === `gpu${g.index}`);
    check(dom && dev && dom.name === g.name && dom.used === g.used_bytes && dom.total === g.total_bytes &&
      dev.used_bytes === g.used_bytes, `GPU ${g.index} "${g.name}" ${g.used_bytes} / ${g.total_bytes} B in the DOM (${JSON.stringify(dom && [dom.name, dom.used, dom.total])})`);
  }
  for (const d of shown) {
    const want = (d.used / d.total) * d.inner;
    check(d.segBytes === d.used && Math.abs(d.segPx - want) <= 1,
      `${d.id}: segments ${d.segBytes} B = used, ${d.segPx.toFixed(2)} px vs ${want.toFixed(2)} px`);
    check(d.id === 'ram' ? d.marks.length === 1 : d.marks.length === 3, `${d.id}: threshold marks (${d.marks.join(' ')})`);
    check(d.titles.every((t) => /\((measured|estimated); .+\)$/.test(t)), `${d.id}: every segment says its source (${d.titles[0]})`);
  }
  const allKinds = shown.flatMap((d) => d.kinds).join(' ');
  check(/kind-non_ai/.test(allKinds), `non-AI processes grouped in the map (${allKinds})`);
  // The workloads table: KV cache in bytes, "~" where estimated.
  const kvCells = await page.$$eval('#workloads tbody tr td:nth-child(4)', (tds) => tds.map((t) => t.textContent));
  check(kvCells.every((t) => !/ctx/.test(t) && (t === '–' || t === '' || /\d(\.\d)? (B|KiB|MiB|GiB)|% used/.test(t))),
    `KV cache column shows bytes (${kvCells.join(' / ')})`);

  // 7. Timelines: one per device; the unload (step 3) is a marker with its
  //    reason; each range is read from the daemon's downsampled history.
  await waitInPage(page, () => document.querySelectorAll('#timelines .timeline').length >= 3, null, { timeout: 10000 });
  const markers = await waitInPage(page, () => [...document.querySelectorAll('#timelines .marker')]
    .filter((m) => /unload ollama\/qwen3:8b/.test(m.getAttribute('aria-label')) &&
      /why: requested through the API/.test(m.title)).length > 0, null, { timeout: 10000 }).then(() => true, () => false);
  check(markers, 'the unload appears on a timeline as a marker with what and why');
  for (const r of ['1h', '24h', '7d', '5m']) {
    const got = page.waitForResponse((res) => res.url().includes(`range=${r}`), { timeout: 10000 });
    await page.click(`.range[data-range="${r}"]`);
    const res = await got;
    const j = await res.json();
    const want = { '5m': 300, '1h': 3600, '24h': 86400, '7d': 604800 }[r];
    check(j.to - j.from === want && j.series.every((x) => x.points.length <= 300),
      `range ${r}: ${j.to - j.from} s, at most 300 points (${j.series.map((x) => x.points.length).join(',')})`);
  }
  const bad = await fetch(`${base}/api/v1/history?series=ruvector_gpu_memory_used_bytes&range=1y`);
  check(bad.status === 400 && /'1y' is not one of/.test((await bad.json()).error), 'an unknown range is a 400 naming it');
  // The last range's points are drawn once its response is read: wait for them.
  const greenPixels = (over) => {
    const c = document.querySelector('#timelines .timeline[data-device="ram"] canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let colored = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 1] > 100 && d[i] < 100 && d[i + 3] > 0) colored++;
    return over === undefined ? colored : colored > over;
  };
  await waitInPage(page, greenPixels, 20, { timeout: 10000 }).catch(() => {});
  const drawn = await page.evaluate(greenPixels);
  check(drawn > 20, `RAM timeline has a drawn line (${drawn} green pixels)`);

  // Gateway panel: each model's state, pid and queue in the DOM equal the
  // status document's gateway section (the replayed serve state).
  {
    const gw = (await (await fetch(`${base}/api/v1/status`)).json()).gateway;
    check(gw && gw.reachable === true && gw.models.length === 3,
      `status carries the gateway section (${JSON.stringify(gw && [gw.listen, gw.reachable, gw.error])})`);
    await waitInPage(page, () => !document.querySelector('#gateway').hidden &&
      document.querySelectorAll('#gateway-models tbody tr').length > 0, null, { timeout: 10000 });
    const rows = await page.$$eval('#gateway-models tbody tr', (trs) => trs.map((tr) =>
      ({ model: tr.dataset.model, cells: [...tr.cells].map((c) => c.textContent) })));
    for (const m of gw.models) {
      const r = rows.find((x) => x.model === m.name);
      check(r && r.cells[1] === m.state && r.cells[2] === (m.pid === null ? '–' : String(m.pid)) &&
        r.cells[3] === String(m.queued),
        `gateway panel: ${m.name} ${m.state} pid ${m.pid} queue ${m.queued} (${JSON.stringify(r && r.cells)})`);
    }
    const busy = rows.find((x) => x.model === 'tiny-a');
    check(busy && busy.cells[1] === 'busy', `the recorded busy model shows busy (${JSON.stringify(busy)})`);
    const handoff = await page.$eval('#gateway-handoff', (p) => ({ hidden: p.hidden, text: p.textContent,
      cls: p.className }));
    const want = 'Image renders: rendering on comfyui at http://127.0.0.1:8188: models yield, requests wait; 2 held, 0 refused';
    check(gw.handoff && gw.handoff.summary === want.slice('Image renders: '.length) && !handoff.hidden &&
      handoff.text === want && gw.handoff.holding === true && handoff.cls === 'holding',
      `gateway panel: the render handoff's line, marked holding (${JSON.stringify([gw.handoff, handoff])})`);
  }


  // 8. Layout from 360 to 2560 px, light and dark; axe-core on each, with a
  //    plan on the panel.
  await page.fill('#plan-model', modelPath);
  await page.click('#plan-submit');
  const planShown = await waitInPage(page, () => /^Fits/.test(document.querySelector('#plan-verdict').textContent),
    null, { timeout: 10000 }).then(() => true, () => false);
  check(planShown, 'a plan is on the panel for the screenshots');
  await page.evaluate(axeSource);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of [360, 1280, 2560]) {
      await page.setViewportSize({ width, height: 1000 });
      await page.waitForTimeout(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      check(overflow <= 0, `${scheme} ${width} px: no horizontal scrolling (${overflow} px too wide)`);
      const file = join(outDir, `web_dashboard_${width}_${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`screenshot: ${file}`);
      const planFile = join(outDir, `web_dashboard_plan_${width}_${scheme}.png`);
      await page.locator('#plan').screenshot({ path: planFile });
      console.log(`screenshot: ${planFile}`);
    }
    const axe = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length,
        target: v.nodes.slice(0, 2).map((n) => n.target.join(' ')) }));
    });
    const serious = axe.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    check(serious.length === 0, `axe-core (${scheme}): no serious or critical violation (${JSON.stringify(serious)})`);
    if (axe.length) console.log(`axe-core (${scheme}) minor/moderate: ${JSON.stringify(axe)}`);
  }
  check(offsite.length === 0, `no request leaves the daemon's origin (${offsite.join(', ')})`);
  // 401: the wrong token (step 5); 422: the missing model asked for (step 1b).
  check(consoleErrors.filter((e) => !/status of (401|422) /.test(e)).length === 0, `no page errors (${consoleErrors.join(' | ')})`);
} catch (e) {
  failures.push(String(e && e.stack || e));
  console.error(e);
  console.error(daemonLog.slice(-4000));
} finally {
  if (browser) await browser.close();
  cleanup();
}
if (failures.length) {
  console.error(`web_dashboard: ${failures.length} failure(s)`);
  process.exit(1);
}
console.log('web_dashboard: all checks passed');
process.exit(0);
