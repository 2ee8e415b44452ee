// A replay of the daemon's API for the views' tests: serves a fixed status
// document (with a GPU and an Ollama model), history and actions, and records
// every POST (path, Authorization header, body) as a JSON line in RECORD.
// Usage: node fake_daemon.mjs STATUS_JSON RECORD_FILE PORT_FILE
// The port (chosen by the kernel on 127.0.0.1) is written to PORT_FILE.
import { createServer } from 'node:http';
import { readFileSync, appendFileSync, writeFileSync } from 'node:fs';

const [statusPath, recordPath, portPath] = process.argv.slice(2);
let status = JSON.parse(readFileSync(statusPath, 'utf8'));
const actions = [];
const history = [];

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; if (body.length > 1e6) req.destroy(); });
  req.on('end', () => {
    const send = (code, obj) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (req.method === 'GET' && req.url === '/api/v1/status') return send(200, status);
    if (req.method === 'GET' && req.url === '/api/v1/history') return send(200, { samples: history });
    if (req.method === 'GET' && req.url === '/api/v1/actions') return send(200, { actions });
    if (req.method === 'POST') {
      appendFileSync(recordPath, JSON.stringify({ path: req.url, auth: req.headers.authorization || '', body }) + '\n');
      if (req.headers.authorization !== 'Bearer test-token') return send(401, { error: 'unauthorized' });
      if (req.url === '/api/v1/unload') {
        const b = JSON.parse(body);
        status.loaded_models = status.loaded_models.filter((m) => m.name !== b.model);
        actions.push({ time: '12:00:00', kind: 'unload', target: `${b.runtime}/${b.model}`, reason: 'user request', outcome: 'ok' });
        return send(200, { message: 'unloaded' });
      }
      return send(200, { message: 'done' });
    }
    send(404, { error: 'not found' });
  });
});
// Fake history: a rising VRAM line the graph must show.
for (let i = 0; i < 30; i++) {
  history.push({ taken_at_unix_ms: 1000 * i, vram_used_bytes: (i + 1) * 800 * 1048576,
    vram_total_bytes: 24 * 1073741824, kv_used_bytes: i * 1048576 });
}
server.listen(0, '127.0.0.1', () => writeFileSync(portPath, String(server.address().port)));
// Bounded life: never outlive a stuck test.
setTimeout(() => process.exit(0), 120000).unref();
