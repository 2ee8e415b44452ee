// A stand-in llama-server in router mode that asks for an API key, as one
// started with --api-key or LLAMA_API_KEY does: GET /health stays open;
// /props, /models and POST /models/unload answer only to
// "Authorization: Bearer KEY", else 401 with llama-server's error body.
// It answers the recorded payloads (tests/fixtures/runtimes/
// llamacpp-props-router.json, llamacpp-router-models.json); an unloaded
// model's status becomes "unloaded". Each request is logged to LOG as
// "METHOD PATH key|nokey BODY".
// Usage: node keyed_router.mjs FIXTURES_DIR KEY LOG  (prints "LISTENING PORT")
import { createServer } from 'node:http';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [fixtures, key, log] = process.argv.slice(2);
const props = readFileSync(join(fixtures, 'llamacpp-props-router.json'), 'utf8');
const models = JSON.parse(readFileSync(join(fixtures, 'llamacpp-router-models.json'), 'utf8'));

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const keyed = req.headers.authorization === `Bearer ${key}`;
    appendFileSync(log, `${req.method} ${req.url} ${keyed ? 'key' : 'nokey'} ${body}\n`);
    const send = (status, text) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    };
    if (req.method === 'GET' && req.url === '/health') return send(200, '{"status":"ok"}');
    if (!keyed) {
      return send(401, '{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}');
    }
    if (req.method === 'GET' && req.url === '/props') return send(200, props);
    if (req.method === 'GET' && req.url === '/models') return send(200, JSON.stringify(models));
    if (req.method === 'POST' && req.url === '/models/unload') {
      let name = '';
      try { name = JSON.parse(body).model; } catch (_) { /* answered below */ }
      const m = models.data.find((x) => x.id === name);
      if (!m) return send(400, '{"error":{"code":400,"message":"model not found","type":"invalid_request_error"}}');
      m.status = { value: 'unloaded' };
      return send(200, '{"success":true}');
    }
    send(404, '{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}');
  });
});
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));
