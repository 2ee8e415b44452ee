// A stand-in OpenAI server that streams at a fixed pace: chunk k of a
// chat completion leaves at t0 + k * interval, whatever happened before, so
// its tokens/s is the same on every request and any difference measured
// through the gateway is the gateway's (bench/gateway_bench.sh). Prints
// "LISTENING <port>" once it listens on loopback.
//   node metronome_server.mjs <interval ms>
import http from "node:http";

const interval = Number(process.argv[2] || 5);
const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
    res.writeHead(404, {"Content-Type": "application/json"});
    res.end('{"error":"not found"}');
    return;
  }
  let body = "";
  req.on("data", (c) => { body += c; });
  req.on("end", () => {
    let n = 16;
    try { n = Math.max(1, Math.min(4096, Number(JSON.parse(body).max_tokens) || 16)); } catch { /* default */ }
    res.writeHead(200, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"});
    const t0 = performance.now();
    let k = 0;
    const next = () => {
      if (res.destroyed) return;
      if (k === n) {
        res.end("data: [DONE]\n\n");
        return;
      }
      res.write(`data: ${JSON.stringify({id: "m", object: "chat.completion.chunk", model: "metro",
        choices: [{index: 0, delta: {content: ` t${k}`}, finish_reason: null}]})}\n\n`);
      k++;
      setTimeout(next, Math.max(0, t0 + k * interval - performance.now()));
    };
    next();
  });
});
server.listen(0, "127.0.0.1", () => console.log(`LISTENING ${server.address().port}`));
