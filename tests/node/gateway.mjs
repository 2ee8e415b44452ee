// The gateway (`ruvector-memopt serve`) on the real llama.cpp: two models
// whose `command` is openai_server.mjs (node-llama-cpp) on tiny generated
// GGUFs, and a memory budget that holds only one of them. Driven by the
// `openai` and `ollama` npm clients and by raw fetch (issue 15).
//   node gateway.mjs <ruvector-memopt> <make_tiny_models>
import {spawn, execFileSync} from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import {Ollama} from "ollama";
import {harness, modelToml as model, sleep} from "./gateway_support.mjs";

const [BIN, MAKE_TINY] = process.argv.slice(2);
if (!BIN || !MAKE_TINY) {
  console.error("usage: gateway.mjs <ruvector-memopt> <make_tiny_models>");
  process.exit(2);
}
const h = harness("gateway", MAKE_TINY);
const {check, A, B, env} = h;
const WORK = h.work;
let gateway = null;

const writeConfig = (budget, maxQueue) => {
  const file = path.join(WORK, `config-${budget}.toml`);
  fs.writeFileSync(file, `[serve]
listen = "127.0.0.1:0"
memory_budget = "${budget}"
queue_timeout_seconds = 60
max_queue = ${maxQueue}
${model("tiny-a", A, 512)}${model("tiny-b", B, 512)}${model("too-big", A, 1048576)}`);
  return file;
};

// The planner's footprints, from `serve --check --json` with a budget that holds all.
const planned = JSON.parse(execFileSync(BIN, ["--json", "serve", "--check", "--config",
                                              writeConfig("1TiB", 1)], {env}).toString());
const need = Object.fromEntries(planned.models.map((m) => [m.name, m.planned_bytes[0]]));
check(planned.devices.length === 1 && planned.devices[0].device === "RAM",
      "CPU-only: the budget is on RAM", JSON.stringify(planned.devices));
check(need["tiny-a"] > 1e6 && need["tiny-b"] > 1e6, "both models have a planned footprint",
      JSON.stringify(need));
// Holds the larger one, never both.
const budget = Math.max(need["tiny-a"], need["tiny-b"]) + Math.floor(Math.min(need["tiny-a"], need["tiny-b"]) / 2);
check(need["too-big"] > budget, "too-big is larger than the budget", `${need["too-big"]} > ${budget}`);

const config = writeConfig(String(budget), 1);
gateway = h.child = spawn(BIN, ["--json", "serve", "--config", config, "--log-dir", path.join(WORK, "logs")],
                {env, stdio: ["ignore", "pipe", "inherit"]});
const port = await new Promise((resolve, reject) => {
  let out = "";
  gateway.stdout.on("data", (d) => {
    out += d;
    const line = out.split("\n")[0];
    if (out.includes("\n")) resolve(JSON.parse(line).listening);
  });
  gateway.on("exit", (c) => reject(new Error(`serve exited ${c}`)));
});
const base = `http://127.0.0.1:${port}`;
const state = async () => (await fetch(`${base}/serve/state`)).json();
const modelState = async (name) => (await state()).models.find((m) => m.name === name);
const openai = new OpenAI({baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0});
const ollama = new Ollama({host: base});

// 1. A serves (OpenAI client, whole answer). While it loads, /serve/state
// names its backend (pid, port): the daemon attributes the memory the load
// takes to it, and announces the rest to its policy (device "gpu" is null
// on a RAM budget).
let t0 = Date.now();
const firstReq = openai.chat.completions.create({model: "tiny-a", max_tokens: 4,
  messages: [{role: "user", content: "hi"}]});
let loading = null;
for (let i = 0; i < 200 && !loading; i++) {
  const s = await state();
  const a = s.models.find((m) => m.name === "tiny-a");
  if (a.state === "loading" && a.pid) loading = {a, devices: s.devices};
  else if (a.state !== "stopped" && a.state !== "loading") break;
  else await sleep(10);
}
check(loading !== null && loading.a.port > 0 && fs.existsSync(`/proc/${loading.a.pid}`) &&
      loading.devices[0].gpu === null,
      "while A loads, /serve/state names its backend (pid, port)", JSON.stringify(loading));
const first = await firstReq;
check(typeof first.choices[0].message.content === "string" && first.usage.completion_tokens === 4,
      "A answers through the OpenAI client", `${Date.now() - t0} ms incl. load`);
check((await modelState("tiny-a")).state === "ready", "A is ready after its request");

// 2. A long stream to A (2000 tokens, about a second of the backend's time);
//    B asked while it runs must wait, not cut it; a
//    second B beyond max_queue = 1 gets 503 + Retry-After.
const stream = await openai.chat.completions.create({model: "tiny-a", max_tokens: 2000, stream: true,
  messages: [{role: "user", content: "count"}]});
let chunks = 0, finish = null, bDone = 0, aDone = 0;
let bPromise = null, overflow = null, midState = null;
for await (const c of stream) {
  if (c.choices[0]?.delta?.content) chunks++;
  if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
  if (chunks === 1) {
    bPromise = ollama.chat({model: "tiny-b", stream: true, options: {num_predict: 5},
                            messages: [{role: "user", content: "hi"}]})
      .then(async (it) => {
        let parts = 0, done = false;
        for await (const p of it) {
          if (p.message.content) parts++;
          done ||= p.done;
        }
        bDone = Date.now();
        return {parts, done};
      });
    await sleep(100);
    midState = await state();
    overflow = await fetch(`${base}/v1/chat/completions`, {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({model: "tiny-b", messages: [{role: "user", content: "x"}], max_tokens: 1})});
  }
}
aDone = Date.now();
check(chunks === 2000 && finish === "length", "A's stream is whole while B waits", `${chunks} chunks`);
const midB = midState.models.find((m) => m.name === "tiny-b");
const midA = midState.models.find((m) => m.name === "tiny-a");
check(midA.state === "busy" && midB.queued === 1 && midB.state !== "ready",
      "during A's stream: A busy, B queued", `${midA.state}, B ${midB.state} queued ${midB.queued}`);
check(overflow.status === 503 && Number(overflow.headers.get("retry-after")) >= 1,
      "a request beyond max_queue gets 503 + Retry-After",
      `${overflow.status} Retry-After ${overflow.headers.get("retry-after")}`);
const b = await bPromise;
check(b.parts === 5 && b.done, "B answers through the Ollama client (streamed NDJSON)", JSON.stringify(b));
check(bDone > aDone, "B was served after A's stream ended");
const events = (await state()).events;
const evictA = events.findIndex((e) => e.event === "evicted" && e.model === "tiny-a");
const loadB = events.findIndex((e) => e.event === "loading" && e.model === "tiny-b");
check(evictA >= 0 && events[evictA].confirmed === true && evictA < loadB,
      "A was evicted and its memory confirmed back before B started",
      JSON.stringify(events[evictA]));
check((await modelState("tiny-a")).state === "stopped", "A is stopped, B holds the budget");

// 3. A disconnecting client cancels its upstream request.
const ac = new AbortController();
const resp = await fetch(`${base}/v1/chat/completions`, {method: "POST", signal: ac.signal,
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({model: "tiny-b", stream: true, max_tokens: 4000,
                        messages: [{role: "user", content: "go"}]})});
const reader = resp.body.getReader();
for (let i = 0; i < 3; i++) await reader.read();
ac.abort();
const bPort = (await modelState("tiny-b")).port;
let cancelled = 0;
for (let i = 0; i < 50 && !cancelled; i++) {
  await sleep(100);
  cancelled = (await (await fetch(`http://127.0.0.1:${bPort}/test/cancelled`)).json()).cancelled;
}
check(cancelled === 1, "the backend stopped generating once the client went away");
await sleep(300);
check((await modelState("tiny-b")).in_flight === 0, "and the gateway holds no request for it");

// 4. A model that can never fit: an immediate, clear error.
t0 = Date.now();
const big = await fetch(`${base}/v1/chat/completions`, {method: "POST",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({model: "too-big", messages: [{role: "user", content: "x"}]})});
const bigBody = await big.json();
check(big.status === 400 && /needs .* on RAM, budget .*can never fit/.test(bigBody.error.message) &&
      Date.now() - t0 < 1000, "too-big: immediate error naming the numbers", bigBody.error.message);

// 5. A crashed backend is reported and started again on the next request.
const bPid = (await modelState("tiny-b")).pid;
process.kill(bPid, "SIGKILL");
let crashed = null;
for (let i = 0; i < 50; i++) {
  await sleep(100);
  crashed = await modelState("tiny-b");
  if (crashed.state === "crashed") break;
}
check(crashed.state === "crashed" && /signal 9/.test(crashed.last_error), "a killed backend is reported",
      crashed.last_error);
const again = await ollama.generate({model: "tiny-b", prompt: "hi", stream: false, options: {num_predict: 3}});
const after = await modelState("tiny-b");
check(again.done === true && typeof again.response === "string" && after.state === "ready" &&
      after.pid !== bPid && after.loads === 2, "and restarted by the next request (Ollama generate)",
      `loads ${after.loads}`);

// 6. Listings and metrics.
const tags = await ollama.list();
check(tags.models.map((m) => m.name).sort().join() === "tiny-a,tiny-b,too-big", "/api/tags lists the models");
const ps = await ollama.ps();
check(ps.models.length === 1 && ps.models[0].name === "tiny-b", "/api/ps lists the loaded one");
const models = await openai.models.list();
check(models.data.length === 3, "/v1/models lists the models");
const metrics = await (await fetch(`${base}/metrics`)).text();
const metric = (re) => Number((metrics.match(re) || [])[1]);
check(metric(/ruvector_serve_evictions_total\{model="tiny-a"\} (\d+)/) === 1 &&
      metric(/ruvector_serve_swaps_total\{model="tiny-b"\} (\d+)/) === 1 &&
      metric(/ruvector_serve_requests_total\{model="tiny-a",outcome="ok"\} (\d+)/) === 2 &&
      metric(/ruvector_serve_requests_total\{model="tiny-b",outcome="cancelled"\} (\d+)/) === 1 &&
      metric(/ruvector_serve_requests_total\{model="tiny-b",outcome="rejected"\} (\d+)/) === 1 &&
      metric(/ruvector_serve_crashes_total\{model="tiny-b"\} (\d+)/) === 1 &&
      metric(/ruvector_serve_load_seconds_count\{model="tiny-b"\} (\d+)/) === 2,
      "/metrics counts requests, evictions, swaps, crashes, loads");

// 7. Stopping the gateway stops its backends.
const lastPid = after.pid;
gateway.kill("SIGTERM");
await new Promise((r) => gateway.on("exit", r));
let alive = true;
try { process.kill(lastPid, 0); } catch { alive = false; }
check(!alive, "SIGTERM to serve stops its backends");

console.log(h.failures ? `${h.failures} check(s) failed` : "gateway: all checks passed");
process.exit(h.failures ? 1 : 0);
