// A minimal OpenAI-compatible streaming server around the real llama.cpp
// (node-llama-cpp's CPU build), for `ai benchmark` tests and the polling
// overhead benchmark, with llama-server's /props and /slots so the tool sees
// it as llama.cpp sees itself. Loopback only.
//   node openai_server.mjs --model tiny.gguf [--port 0] [--sequences 1] [--ctx 512]
// Prints "LISTENING <port>" once the model is loaded.
import http from "node:http";
import path from "node:path";
import {getLlama} from "node-llama-cpp";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const modelPath = arg("model");
if (!modelPath) {
  console.error("usage: openai_server.mjs --model FILE.gguf [--port N] [--sequences N] [--ctx N]");
  process.exit(2);
}
// llama-server's spellings too (--parallel, --ctx-size = the total over all
// sequences), so the gateway's tests plan this server as they would llama-server.
const sequences = Number(arg("parallel", arg("sequences", "1")));
// One thread: on a shared, oversubscribed CPU llama.cpp's spinning thread
// barriers make more threads dramatically slower, not faster.
const threads = Number(arg("threads", "1"));
const llama = await getLlama({gpu: false, logLevel: "error", maxThreads: threads});
const model = await llama.loadModel({modelPath});
const totalCtx = arg("ctx-size") ? Number(arg("ctx-size")) : Number(arg("ctx", "512")) * sequences;
const context = await model.createContext({contextSize: totalCtx, sequences, threads});
const modelId = path.basename(modelPath);
const perSequence = Math.floor(context.contextSize / sequences);

// A fresh context sequence per request (empty KV); at most `sequences` at
// once, the others wait.
let inUse = 0;
let cancelled = 0;  // streams stopped because their client went away
const waiting = [];
// A disposed sequence is returned to the context asynchronously, so a new
// one may be briefly unavailable ("No sequences left"): retry for up to 2 s.
async function newSequence() {
  for (let attempt = 0; ; attempt++) {
    try {
      return context.getSequence();
    } catch (e) {
      if (attempt >= 400) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
const acquire = () => {
  if (inUse < sequences) {
    inUse++;
    return newSequence();
  }
  return new Promise((r) => waiting.push(r));
};
const release = (seq) => {
  seq.dispose();
  if (waiting.length) waiting.shift()(newSequence());
  else inUse--;
};

// Runs to max_tokens (end-of-generation tokens are not a stop here, so every
// request does the same work), calling onToken for each generated token.
// Stops early when the client has gone away (`res` closed), as llama-server
// cancels a task whose connection closed.
async function generate(seq, prompt, maxTokens, onToken, res) {
  let n = 0;
  for await (const token of seq.evaluate(model.tokenize(prompt), {temperature: 0})) {
    if (res && res.clientGone) break;
    onToken(token);
    if (++n >= maxTokens) break;
  }
  return n;
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {"Content-Type": "application/json", "Content-Length": Buffer.byteLength(text)});
  res.end(text);
}

async function chat(req, res, body) {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const prompt = messages.map((m) => String(m.content ?? "")).join("\n");
  const maxTokens = Math.max(1, Math.min(Number(body.max_tokens ?? 16), 4096));
  const id = `chatcmpl-${Date.now()}`;
  const created = Math.floor(Date.now() / 1000);
  const seq = await acquire();
  let n = 0;
  try {
    if (body.stream) {
      res.on("close", () => { if (!res.writableFinished) res.clientGone = true; });
      res.writeHead(200, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"});
      const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
      n = await generate(seq, prompt, maxTokens, (token) => {
        const text = model.detokenize([token]) || " ";
        send({id, object: "chat.completion.chunk", created, model: modelId,
              choices: [{index: 0, delta: {content: text}, finish_reason: null}]});
      }, res);
      if (res.clientGone) {
        cancelled++;
        return;
      }
      send({id, object: "chat.completion.chunk", created, model: modelId,
            choices: [{index: 0, delta: {}, finish_reason: "length"}]});
      if (body.stream_options?.include_usage) {
        send({id, object: "chat.completion.chunk", created, model: modelId, choices: [],
              usage: {prompt_tokens: model.tokenize(prompt).length, completion_tokens: n,
                      total_tokens: model.tokenize(prompt).length + n}});
      }
      res.end("data: [DONE]\n\n");
    } else {
      const out = [];
      n = await generate(seq, prompt, maxTokens, (token) => out.push(token));
      const text = model.detokenize(out);
      json(res, 200, {id, object: "chat.completion", created, model: modelId,
                      choices: [{index: 0, message: {role: "assistant", content: text}, finish_reason: "length"}],
                      usage: {completion_tokens: n}});
    }
  } finally {
    release(seq);
  }
}

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => {
    body += c;
    if (body.length > 1 << 20) req.destroy();
  });
  req.on("end", async () => {
    try {
      if (req.method === "GET" && req.url === "/health") return json(res, 200, {status: "ok"});
      // llama-server's own status endpoints, from the real context: the
      // context per sequence and the sequences (slots) llama.cpp allocated.
      if (req.method === "GET" && req.url === "/props") {
        return json(res, 200, {default_generation_settings: {n_ctx: perSequence}, total_slots: sequences,
                               model_path: path.resolve(modelPath)});
      }
      if (req.method === "GET" && req.url === "/slots") {
        return json(res, 200, Array.from({length: sequences}, (_, id) =>
          ({id, n_ctx: perSequence, is_processing: id < inUse})));
      }
      if (req.method === "GET" && req.url === "/test/cancelled") return json(res, 200, {cancelled});
      if (req.method === "GET" && req.url === "/v1/models") {
        return json(res, 200, {object: "list", data: [{id: modelId, object: "model", created: 0, owned_by: "node-llama-cpp"}]});
      }
      if (req.method === "POST" && req.url === "/v1/chat/completions") {
        let parsed;
        try { parsed = JSON.parse(body); } catch { return json(res, 400, {error: {message: "invalid JSON", type: "invalid_request_error"}}); }
        return await chat(req, res, parsed);
      }
      json(res, 404, {error: {code: 404, message: "File Not Found", type: "not_found_error"}});
    } catch (e) {
      if (!res.headersSent) json(res, 500, {error: {message: String(e), type: "server_error"}});
      else res.destroy();
    }
  });
});
server.listen(Number(arg("port", "0")), "127.0.0.1", () => {
  console.log(`LISTENING ${server.address().port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
