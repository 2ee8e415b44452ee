// Where ggml-alloc puts each tensor of llama.cpp's worst-case graph: the tool
// behind the compute model's "traced in ggml-alloc" notes (src/estimate/
// memory_estimate.cc). It creates one context of one model with the bundled
// llama.cpp (node-llama-cpp 3.21.1, CPU backend, no_alloc dry run, as
// estimate_real_accuracy.mjs does) against an instrumented libggml-base, reads
// the allocator's trace and prints, in E (n_embd floats per token of the
// micro-batch): the buffer's peak and the tensors alive when it was reached,
// and for each tensor named with --at, the live tensors and the free blocks
// just before ggml-alloc placed it.
//
// The instrumented library (not part of the build; a few minutes on 2 cores):
//   git clone tests/node/node_modules/node-llama-cpp/llama/gitRelease.bundle llcpp
//   in llcpp/ggml/src/ggml-alloc.c define AT_PRINTF as
//     do { if (getenv("GGML_AT_TRACE")) fprintf(stderr, __VA_ARGS__); } while (0)
//   cmake -S llcpp -B llbuild -DBUILD_SHARED_LIBS=ON -DGGML_BACKEND_DL=ON \
//     -DGGML_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF
//   cmake --build llbuild --target ggml-base      (-> llbuild/bin/libggml-base.so)
// The addon's RUNPATH yields to LD_LIBRARY_PATH, so --lib llbuild/bin swaps in
// only that library.
//
// Usage: node estimate_alloc_trace.mjs --lib DIR --model FILE.gguf --ctx N
//          [--seqs N] [--type f16|q8_0|q4_0] [--fa on|off] [--ubatch N]
//          [--at TENSOR,...]
//   e.g. --model build/real_models/qwen3-next-80b-a3b.gguf --ctx 32768 --fa on
//        --at attn_output-47,node_4977,result_output
import {spawnSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {arg} from "./estimate_real_accuracy.mjs";
import {cpuLlama, takeLog} from "./estimate_real_models.mjs";
import {ggmlType} from "./llama_ground_truth.mjs";

const model = arg("--model"), ctx = +arg("--ctx"), seqs = +arg("--seqs", "1");
const type = arg("--type", "f16"), fa = arg("--fa", "on"), ubatch = +arg("--ubatch", "512");
if (!(ctx > 0) || !(seqs > 0) || !(ubatch > 0) || !(type in ggmlType) || !["on", "off"].includes(fa)) {
  console.error("--ctx, --seqs and --ubatch are positive numbers, --type a KV type, --fa on or off");
  process.exit(2);
}

// Child: build the context; the allocator writes its trace to stderr.
if (process.argv.includes("--child")) {
  const llama = await cpuLlama();
  const m = new llama._bindings.AddonModel(model, {gpuLayers: 0, noAlloc: true, useMmap: false, useMlock: false});
  if (!(await m.init())) throw new Error(`llama.cpp did not load ${model}`);
  for (const l of takeLog()) if (/\bn_embd\s*=/.test(l)) console.log(l.trim());
  const c = new llama._bindings.AddonContext(m, {
    contextSize: ctx * seqs, batchSize: ubatch, sequences: seqs, flashAttention: fa === "on",
    kvCacheKeyType: ggmlType[type], kvCacheValueType: ggmlType[type], swaFullCache: false});
  if (!(await c.init())) throw new Error("llama.cpp could not create the context");
  for (const l of takeLog()) if (/compute buffer size/.test(l)) console.log(l.trim());
  await c.dispose();
  await m.dispose();
  process.exit(0);
}

const lib = arg("--lib");
const at = arg("--at", "").split(",").filter(Boolean);
// The trace goes to a file: on a pipe, which Node makes non-blocking, the C
// library's writes to stderr would drop lines once the pipe is full.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memopt_alloc_trace_"));
const traceFile = path.join(dir, "trace.txt");
let child, trace;
try {
  const fd = fs.openSync(traceFile, "w");
  try {
    child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2), "--child"], {
      encoding: "utf8", maxBuffer: 1 << 26, stdio: ["ignore", "pipe", fd],
      env: {...process.env, GGML_AT_TRACE: "1", LD_LIBRARY_PATH: [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":")}});
  } finally {
    fs.closeSync(fd);
  }
  trace = fs.readFileSync(traceFile, "utf8");
} finally {
  fs.rmSync(dir, {recursive: true, force: true});
}
if (child.status !== 0) {
  console.error(`the traced run failed (exit ${child.status}): ${trace.split("\n").slice(-5).join("\n")}`);
  process.exit(1);
}
const embd = +(child.stdout.match(/\bn_embd\s*=\s*(\d+)/)?.[1] ?? 0);
const lines = trace.split("\n");
const allocRe = /allocating (.+?) \((\d+) bytes\) - block -?\d+, offset (\d+), chunk (\d+)/;
const freeRe = /freeing (.+?) at \{chunk=(\d+), offset=(\d+)\} \((\d+) bytes\)/;
if (!lines.some((l) => allocRe.test(l))) {
  console.error(`no allocator trace on stderr: is ${lib}/libggml-base.so the instrumented build?`);
  process.exit(1);
}
if (!embd) {
  console.error("llama.cpp's log did not give n_embd");
  process.exit(1);
}
const unit = ubatch * 4 * embd;  // bytes of one E-wide f32 tensor over the micro-batch
const e = (b) => (b / unit).toFixed(2).padStart(7);

function layout(live, top) {
  const out = [];
  let prev = 0;
  for (const t of [...live.values()].sort((a, b) => a.offset - b.offset)) {
    if (t.offset - prev > 4096) out.push(`        free ${e(prev)} .. ${e(t.offset)} (${e(t.offset - prev).trim()} E)`);
    if (t.size >= unit / 64) out.push(`  ${e(t.offset)}  ${e(t.size)} E  ${t.name}`);
    prev = Math.max(prev, t.offset + t.size);
  }
  if (top - prev > 4096) out.push(`        free ${e(prev)} .. ${e(top)} (${e(top - prev).trim()} E)`);
  return out.join("\n");
}

// One pass per graph reservation (a new pass starts at the first input).
let live = new Map(), top = 0, peak = {end: 0};
const passes = [];
for (const l of lines) {
  let m = l.match(allocRe);
  if (m) {
    const [name, size, offset, chunk] = [m[1], +m[2], +m[3], +m[4]];
    if (name === "inp_tokens" || name === "inp_embd" && live.size === 0) {
      if (top > 0) passes.push({top, peak});
      live = new Map();
      top = 0;
      peak = {end: 0};
    }
    if (at.includes(name)) console.log(`before ${name} (buffer top ${e(top).trim()} E):\n${layout(live, top)}`);
    live.set(`${chunk}:${offset}`, {name, size, offset});
    if (offset + size > top) {
      top = offset + size;
      peak = {end: top, at: name, layout: layout(live, top)};
    }
    continue;
  }
  m = l.match(freeRe);
  if (m) live.delete(`${m[2]}:${m[3]}`);
}
passes.push({top, peak});
const worst = passes.reduce((a, b) => (b.top > a.top ? b : a));
console.log(child.stdout.trim());
console.log(`E = ${embd} floats x ${ubatch} tokens = ${unit} B; ${passes.length} graph pass(es)`);
console.log(`peak ${worst.top} B (${e(worst.top).trim()} E), reached allocating ${worst.peak.at}:\n${worst.peak.layout}`);
