// A replay of the daemon's API (src/daemon/api.h shapes) for the views'
// tests: serves a fixed status document (a GPU, two Ollama models), history
// series and actions, and records every POST (path, Authorization header,
// body) as a JSON line in RECORD.
// Usage: node fake_daemon.mjs STATUS_JSON RECORD_FILE PORT_FILE [TOKEN]
// Actions need "Authorization: Bearer TOKEN" (default test-token).
// The port (chosen by the kernel on 127.0.0.1) is written to PORT_FILE.
import { createServer } from 'node:http';
import { readFileSync, appendFileSync, writeFileSync } from 'node:fs';

const [statusPath, recordPath, portPath, tokenArg] = process.argv.slice(2);
const token = tokenArg || 'test-token';
let status = JSON.parse(readFileSync(statusPath, 'utf8'));
const actions = [];
// Fake history: 30 s of rising VRAM the graph must show.
const t0 = 1764237600;
const series = {
  ruvector_gpu_memory_used_bytes: (i) => (i + 1) * 800 * 1048576,
  ruvector_gpu_memory_total_bytes: () => 24 * 1073741824,
  ruvector_host_memory_available_bytes: () => 48 * 1073741824,
  ruvector_host_memory_total_bytes: () => 64 * 1073741824,
  ruvector_model_kv_cache_used_bytes: (i) => i * 1048576,
};

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; if (body.length > 1e6) req.destroy(); });
  req.on('end', () => {
    const send = (code, obj) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/api/v1/status') return send(200, status);
    if (req.method === 'GET' && url.pathname === '/api/v1/history') {
      const f = series[url.searchParams.get('series')];
      if (!f) return send(200, { schema: 'ruvector-memopt.history/1', series: [] });
      const points = [];
      for (let i = 0; i < 30; i++) points.push([t0 + i, f(i)]);
      return send(200, { schema: 'ruvector-memopt.history/1', series: [{ name: url.searchParams.get('series'), labels: '', resolution_seconds: 1, points }] });
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/actions') return send(200, { schema: 'ruvector-memopt.actions/1', actions });
    if (req.method === 'POST') {
      appendFileSync(recordPath, JSON.stringify({ path: req.url, auth: req.headers.authorization || '', body }) + '\n');
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'unauthorized' });
      if (req.url === '/api/v1/unload') {
        const b = JSON.parse(body);
        status.loaded_models = status.loaded_models.filter((m) => m.name !== b.model);
        const action = { kind: 'unload', target: `${b.runtime}/${b.model}`, reason: 'requested through the API', outcome: 'ok' };
        actions.push({ ...action, ts_ms: Date.now(), applied: true });
        return send(200, { action });
      }
      if (req.url === '/api/v1/profile') return send(200, { profile: JSON.parse(body).name });
      // AI Mode: the status says what was asked, as the daemon's does.
      if (req.url === '/api/v1/mode') {
        status.actions = JSON.parse(body).actions;
        return send(200, { actions: status.actions });
      }
      if (req.url === '/api/v1/optimize') return send(200, { schema: 'ruvector-memopt.optimize/1', actions: [], notes: [] });
      return send(404, { error: 'not found' });
    }
    send(404, { error: 'not found' });
  });
});
server.listen(0, '127.0.0.1', () => writeFileSync(portPath, String(server.address().port)));
// Bounded life: never outlive a stuck test.
setTimeout(() => process.exit(0), 120000).unref();
