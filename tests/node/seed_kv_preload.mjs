// Two of the seed's success metrics on the real llama.cpp (node-llama-cpp's
// CPU build), for bench/seed_metrics.sh:
//  - KV saved: a context allocated at --ctx, a few chat-sized requests, their
//    observed peak; the context right-sized to that peak the way the policy
//    engine does (peak x kv_headroom 1.25, at least min_context, whole
//    1024-token blocks: src/policy/engine_context.cc); the KV bytes before
//    and after are llama.cpp's own ("llama_kv_cache... size = N MiB" as it
//    allocates them), not our formula.
//  - Preload speedup: time to the first token of a request to a model not
//    loaded yet (load + context + first token) against one already loaded.
// Prints one JSON object.
//   node seed_kv_preload.mjs --model tiny.gguf [--ctx 8192] [--requests 4] [--runs 3]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const modelPath = arg("model");
if (!modelPath) {
  console.error("usage: seed_kv_preload.mjs --model FILE.gguf [--ctx N] [--requests N] [--runs N]");
  process.exit(2);
}
const ctx = Number(arg("ctx", "8192"));
const requests = Number(arg("requests", "4"));
const runs = Number(arg("runs", "3"));
for (const [k, v] of [["ctx", ctx], ["requests", requests], ["runs", runs]]) {
  if (!Number.isInteger(v) || v < 1 || v > 1 << 20) {
    console.error(`--${k} must be a whole number from 1 to 1048576, not ${arg(k)}`);
    process.exit(2);
  }
}

// llama.cpp's own report of the KV cache it allocated, from its log.
const kvLog = [];
const llama = await getLlama({
  gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.info,
  logger: (level, message) => {
    const m = /llama_kv_cache[^:]*: *size = *([0-9.]+) MiB/.exec(message) ??
              /KV self size *= *([0-9.]+) MiB/.exec(message);
    if (m) kvLog.push(Math.round(Number(m[1]) * 1024 * 1024));
  },
});

async function kvBytesAt(model, contextSize) {
  const before = kvLog.length;
  const context = await model.createContext({contextSize, sequences: 1, threads: 1});
  // llama.cpp's log lines reach JavaScript on the event loop, possibly after
  // createContext resolved (seen on a loaded machine): wait for the first,
  // then a little for a second cache's (SWA models log two).
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 200 && kvLog.length === before; i++) await sleep(50);
  await sleep(200);
  const bytes = kvLog.slice(before).reduce((a, b) => a + b, 0);
  return {context, bytes};
}

// Chat-sized requests: a prompt and a reply of a few hundred tokens each.
function prompt(i) {
  return `Request ${i}: ` + "summarise the following notes about memory use. ".repeat(20 + 10 * i);
}

async function firstToken(context, text) {
  const seq = context.getSequence();
  const t0 = performance.now();
  let first = 0;
  let n = 0;
  for await (const _ of seq.evaluate(context.model.tokenize(text), {temperature: 0})) {
    if (n++ === 0) first = performance.now() - t0;
    if (n >= 64) break;
  }
  const used = seq.nextTokenIndex;
  seq.dispose();
  return {first_token_ms: first, tokens_used: used};
}

// KV saved.
const model = await llama.loadModel({modelPath});
const big = await kvBytesAt(model, ctx);
let peak = 0;
for (let i = 0; i < requests; i++) {
  peak = Math.max(peak, (await firstToken(big.context, prompt(i))).tokens_used);
}
await big.context.dispose();
const rightSized = Math.min(ctx, Math.ceil(Math.max(peak * 1.25, 2048) / 1024) * 1024);
const small = await kvBytesAt(model, rightSized);
await small.context.dispose();
await model.dispose();

// Preload: cold = load + context + first token; warm = first token only.
const cold = [];
const warm = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  const m = await llama.loadModel({modelPath});
  const c = await m.createContext({contextSize: 2048, sequences: 1, threads: 1});
  await firstToken(c, prompt(0));
  cold.push(performance.now() - t0);
  warm.push((await firstToken(c, prompt(0))).first_token_ms);
  await c.dispose();
  await m.dispose();
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

if (!big.bytes || !small.bytes) {
  console.error("llama.cpp did not report its KV cache size in its log");
  process.exit(1);
}
console.log(JSON.stringify({
  ctx_before: ctx,
  ctx_after: rightSized,
  peak_tokens: peak,
  kv_bytes_before: big.bytes,
  kv_bytes_after: small.bytes,
  kv_saved_percent: 100 * (big.bytes - small.bytes) / big.bytes,
  cold_first_token_ms: cold,
  preloaded_first_token_ms: warm,
  preload_speedup: median(cold) / median(warm),
}));
