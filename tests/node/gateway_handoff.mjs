// The image-generation handoff on the real llama.cpp (issue 15): `serve`
// with one model whose `command` is openai_server.mjs (node-llama-cpp) on a
// tiny generated GGUF, and a stand-in ComfyUI (a loopback server answering
// GET /queue in ComfyUI's shape) whose queue this test fills and empties.
// Asserted: a stream running when the render is queued is never cut; the
// model yields right after it (its backend process is gone); a request
// during the render is held, and answered once the queue has stayed empty
// for resume_after_seconds, by a restarted backend; with the profile's
// render_handoff switched to "reject" (in the same config file, read at the
// next poll) a request gets 503 + Retry-After at once; an image server that
// vanishes never holds the model.
//   node gateway_handoff.mjs <ruvector-memopt> <make_tiny_models>
import {spawn, execFile, execFileSync} from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import {promisify} from "node:util";
import OpenAI from "openai";
import {harness, modelToml as model, sleep} from "./gateway_support.mjs";

const [BIN, MAKE_TINY] = process.argv.slice(2);
if (!BIN || !MAKE_TINY) {
  console.error("usage: gateway_handoff.mjs <ruvector-memopt> <make_tiny_models>");
  process.exit(2);
}
const h = harness("gateway_handoff", MAKE_TINY);
const {check, A, env} = h;

// The stand-in ComfyUI: GET /queue as ComfyUI's server.py answers it.
let running = [], pending = [];
const comfy = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/queue") {
    res.writeHead(200, {"Content-Type": "application/json"});
    res.end(JSON.stringify({queue_running: running, queue_pending: pending}));
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => comfy.listen(0, "127.0.0.1", r));
const comfyUrl = `http://127.0.0.1:${comfy.address().port}`;
const prompt = (n) => [n, `prompt-${n}`, {"3": {class_type: "KSampler", inputs: {}}},
                       {client_id: "test"}, ["9"]];
const render = (on) => { running = on ? [prompt(1)] : []; pending = on ? [prompt(2)] : []; };

const config = path.join(h.work, "config.toml");
fs.writeFileSync(config, `[serve]
listen = "127.0.0.1:0"
memory_budget = "1TiB"
queue_timeout_seconds = 60
${model("tiny-a", A, 512)}
[serve.image_generation]
comfyui = "${comfyUrl}"
poll_seconds = 0.2
resume_after_seconds = 1
`);
execFileSync(BIN, ["ai", "profile", "image_generation", "--config", config], {env});

const gateway = h.child = spawn(BIN, ["--json", "serve", "--config", config, "--log-dir",
                                      path.join(h.work, "logs")],
                                {env, stdio: ["ignore", "pipe", "inherit"]});
const port = await new Promise((resolve, reject) => {
  let out = "";
  gateway.stdout.on("data", (d) => {
    out += d;
    if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]).listening);
  });
  gateway.on("exit", (c) => reject(new Error(`serve exited ${c}`)));
});
const base = `http://127.0.0.1:${port}`;
const state = async () => (await fetch(`${base}/serve/state`)).json();
const modelA = async () => (await state()).models.find((m) => m.name === "tiny-a");
const waitFor = async (cond, ms) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(50);
  }
  return cond();
};
const openai = new OpenAI({baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0});
const ask = () => openai.chat.completions.create({model: "tiny-a", max_tokens: 4,
  messages: [{role: "user", content: "hi"}]});
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

let s = await state();
check(s.handoff.enabled && s.handoff.profile === "image_generation" && s.handoff.mode === "queue" &&
      s.handoff.phase === "idle", "the handoff watches ComfyUI under image_generation",
      JSON.stringify(s.handoff));
const first = await ask();
check(first.usage.completion_tokens === 4, "A answers before any render");
const pid1 = (await modelA()).pid;

// 1. A render is queued while A streams: the stream is whole, then A yields.
const stream = await openai.chat.completions.create({model: "tiny-a", max_tokens: 4000,
  stream: true, messages: [{role: "user", content: "count"}]});
let chunks = 0, finish = null, midState = null;
for await (const c of stream) {
  if (c.choices[0]?.delta?.content) chunks++;
  if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
  if (chunks === 1) {
    render(true);
    await waitFor(async () => (await state()).handoff.phase === "rendering", 5000);
    midState = await state();
  }
}
const midA = midState.models.find((m) => m.name === "tiny-a");
check(midState.handoff.phase === "rendering" && midA.state === "busy",
      "the render is seen while A streams, and A stays busy", JSON.stringify(midState.handoff));
check(chunks === 4000 && finish === "length", "the stream is never cut by the render",
      `${chunks} chunks`);
const yielded = await waitFor(async () => (await modelA()).state === "stopped", 5000);
check(yielded && !alive(pid1), "after its stream A yields: its backend is stopped",
      `pid ${pid1} alive=${alive(pid1)}`);

// 2. A request during the render is held, then served once the queue has
// stayed empty for resume_after_seconds.
let answered = 0;
const held = ask().then((r) => { answered = Date.now(); return r; });
await sleep(1500);
s = await state();
check(answered === 0 && s.handoff.requests_held === 1 &&
      s.models.find((m) => m.name === "tiny-a").queued === 1 &&
      s.models.find((m) => m.name === "tiny-a").state === "stopped",
      "a request during the render waits in the queue; nothing starts for it",
      JSON.stringify(s.handoff));
// `ai status` shows it (text within 80 columns, and --json).
const run = promisify(execFile);
const status = (...a) => run(BIN, [...a, "ai", "status", "--no-probe", "--gateway",
                                   `127.0.0.1:${port}`], {env, maxBuffer: 64 << 20});
const statusText = (await status()).stdout;
const renderLine = statusText.split("\n").find((l) => l.includes("Image renders:")) || "";
check(/Image renders: rendering on comfyui at http:\/\/127\.0\.0\.1:\d+: models yield, requests wait; 1 held/
        .test(statusText.replace(/\n +/g, " ")) &&
      statusText.split("\n").every((l) => [...l].length <= 80),
      "ai status shows the render and the held request", renderLine);
const statusDoc = JSON.parse((await status("--json")).stdout);
check(statusDoc.gateway.handoff && statusDoc.gateway.handoff.phase === "rendering" &&
      statusDoc.gateway.handoff.mode === "queue" && statusDoc.gateway.handoff.requests_held === 1 &&
      /^comfyui at http:/.test(statusDoc.gateway.handoff.rendering_on) &&
      statusDoc.gateway.handoff.summary ===
        `rendering on ${statusDoc.gateway.handoff.rendering_on}: models yield, requests wait; 1 held, 0 refused`,
      "ai status --json carries gateway.handoff with the text line's summary", JSON.stringify(statusDoc.gateway.handoff));
const emptied = Date.now();
render(false);
const heldAnswer = await held;
const waited = answered - emptied;
const a2 = await modelA();
check(heldAnswer.usage.completion_tokens === 4 && waited >= 1000 && a2.state === "ready" &&
      a2.pid !== pid1 && alive(a2.pid),
      "after the queue stays empty, A is restarted and the held request answered",
      `${waited} ms after the queue emptied`);
s = await state();
const ev = (name) => s.events.filter((e) => e.event === name).length;
check(s.handoff.phase === "idle" && s.handoff.handoffs === 1 && ev("render_started") === 1 &&
      ev("yielded") === 1 && ev("render_ended") === 1 && s.handoff.held_seconds_total > 1,
      "/serve/state tells the handoff", JSON.stringify(s.handoff));
const metrics = await (await fetch(`${base}/metrics`)).text();
// Sample lines only (a HELP text must not match).
const metric = (re) => Number((metrics.match(new RegExp(`^${re.source}`, "m")) || [])[1]);
check(metric(/ruvector_serve_render_handoffs_total (\d+)/) === 1 &&
      metric(/ruvector_serve_render_requests_total\{outcome="held"\} (\d+)/) === 1 &&
      metric(/ruvector_serve_render_held_seconds_total ([\d.]+)/) > 1 &&
      metric(/ruvector_serve_render_holding (\d+)/) === 0,
      "/metrics counts the handoff and the held request");

// 3. render_handoff = "reject", written into the same config: read at the
// next poll; a request during a render gets 503 + Retry-After at once.
fs.appendFileSync(config, `\n[ai_mode.image_generation]\nrender_handoff = "reject"\n`);
await waitFor(async () => (await state()).handoff.mode === "reject", 5000);
render(true);
await waitFor(async () => (await state()).handoff.phase === "rendering", 5000);
const t0 = Date.now();
const refused = await fetch(`${base}/v1/chat/completions`, {method: "POST",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({model: "tiny-a", max_tokens: 1, messages: [{role: "user", content: "x"}]})});
const refusedBody = await refused.json();
check(refused.status === 503 && refused.headers.get("retry-after") === "2" &&
      /an image render is running on comfyui/.test(refusedBody.error.message) &&
      Date.now() - t0 < 1000,
      "reject: 503 + Retry-After at once", `${refused.status} ${refusedBody.error?.message}`);
render(false);
await waitFor(async () => (await state()).handoff.phase === "idle", 5000);

// 4. The image server vanishes mid-render: it does not hold A past the
// debounce; its error is shown.
render(true);
await waitFor(async () => (await state()).handoff.phase === "rendering", 5000);
comfy.closeAllConnections?.();
await new Promise((r) => comfy.close(r));
const gone = Date.now();
const ended = await waitFor(async () => (await state()).handoff.phase === "idle", 10000);
s = await state();
check(ended && typeof s.handoff.servers[0].error === "string" &&
      s.handoff.servers[0].error.length > 0,
      "a ComfyUI that vanishes mid-render ends the handoff; its error is shown",
      `${Date.now() - gone} ms; ${JSON.stringify(s.handoff.servers)}`);
const t1 = Date.now();
const afterGone = await ask();
check(afterGone.usage.completion_tokens === 4, "A serves with the image server gone",
      `${Date.now() - t1} ms`);
s = await state();
check(s.handoff.phase === "idle" && s.handoff.handoffs === 3,
      "and no further handoff starts", JSON.stringify(s.handoff));

gateway.kill("SIGTERM");
await new Promise((r) => gateway.on("exit", r));
console.log(h.failures ? `${h.failures} check(s) failed` : "gateway_handoff: all checks passed");
process.exit(h.failures ? 1 : 0);
