// Zero-weight GGUFs at the real size of current models (estimate_families.mjs)
// and llama.cpp's own allocation for them (node-llama-cpp 3.21.1's bundled
// llama.cpp, CPU backend, no_alloc dry run: the model and contexts are built,
// the scheduler sizes every buffer, nothing is allocated or read).
//
// The tensor table of each file is what llama.cpp's loader asks for: the file
// starts with token_embd (and output.weight for untied models) and every
// "missing tensor 'X'" / "tensor 'X' has wrong shape; expected ..." error the
// loader raises adds or reshapes one tensor, until the model loads. A missing
// tensor of layer i first borrows the shape of the same tensor in the nearest
// earlier layer, so a uniform model needs one load per tensor of a layer, not
// per tensor. The result is cached in the work directory (keyed by the
// metadata), so later runs write the file without asking.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {GGML, writeSparseGguf} from "./gguf_sparse.mjs";

let logLines = [];
let llamaInstance = null;
export async function cpuLlama() {
  if (!llamaInstance) {
    llamaInstance = await getLlama({
      gpu: false,
      logLevel: LlamaLogLevel.debug,
      logger: (_level, message) => { logLines.push(message); },
    });
  }
  return llamaInstance;
}
export function takeLog() {
  const l = logLines;
  logLines = [];
  return l;
}

export function familyKvs(f) {
  const kvs = [
    ["general.architecture", {t: "str", v: f.arch}],
    ["general.name", {t: "str", v: `${f.model} (zero weights, shape only)`}],
    ["general.file_type", {t: "u32", v: 15}],
    ["tokenizer.ggml.model", {t: "str", v: "none"}],
  ];
  for (const [k, v] of Object.entries(f.kv)) kvs.push([`${f.arch}.${k}`, v]);
  for (const kv of f.extraKv ?? []) kvs.push(kv);
  return kvs;
}

// Types as a Q4_K_M conversion chooses them, simplified: 1-D tensors, norms,
// routers, convolutions and state parameters f32; matrices Q4_K (output
// Q6_K, gpt-oss experts MXFP4) when their rows are whole 256-blocks, else
// Q8_0 for whole 32-blocks, else F16.
const kF32Names = /(norm|ssm_a|ssm_d\b|ssm_dt|conv1d|shortconv|gate_inp|sinks|rope_freqs|rope_factors|exp_probs|altup|laurel_l|token_types|_scale)/;
export function tensorType(f, name, shape) {
  if (shape.length < 2 || kF32Names.test(name)) return GGML.f32;
  if (f.arch === "gpt-oss" && name.includes("_exps") && shape[0] % 32 === 0) return GGML.mxfp4;
  if (shape[0] % 256 === 0) return name === "output.weight" ? GGML.q6_K : GGML.q4_K;
  if (shape[0] % 32 === 0) return GGML.q8_0;
  return GGML.f16;
}

async function tryLoad(llama, file) {
  takeLog();
  const model = new llama._bindings.AddonModel(file, {gpuLayers: 0, noAlloc: true, useMmap: false, useMlock: false});
  const restore = llama._createLogLevelOverride(LlamaLogLevel.error);
  let ok;
  try {
    ok = await model.init();
  } finally {
    restore();
  }
  await new Promise((r) => setTimeout(r, 0));
  const log = takeLog().join("\n");
  if (ok) return {model};
  await model.dispose().catch(() => {});
  return {error: log};
}

function hashOf(x) {
  return crypto.createHash("sha256").update(JSON.stringify(x)).digest("hex").slice(0, 16);
}

// Returns the tensor table llama.cpp requires for family `f`.
export async function discoverTensors(llama, f, workDir) {
  const kvs = familyKvs(f);
  const cacheFile = path.join(workDir, `${f.name}.tensors.json`);
  const key = hashOf({kvs, untied: f.untied, extra: f.extraTensors ?? [], v: 2});
  if (fs.existsSync(cacheFile)) {
    const c = JSON.parse(fs.readFileSync(cacheFile, "utf8"));
    if (c.key === key) return c.tensors;
  }
  const vocab = f.kv.vocab_size.v, embd = f.kv.embedding_length.v;
  const tensors = [{name: "token_embd.weight", shape: [embd, vocab]}];
  if (f.untied) tensors.push({name: "output.weight", shape: [embd, vocab]});
  for (const t of f.extraTensors ?? []) tensors.push({name: t.name, shape: [...t.shape]});
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const file = path.join(workDir, `${f.name}.probe.gguf`);
  for (let iter = 0; iter < 20000; iter++) {
    for (const t of tensors) t.type = tensorType(f, t.name, t.shape);
    writeSparseGguf(file, kvs, tensors);
    const r = await tryLoad(llama, file);
    if (r.model) {
      await r.model.dispose();
      fs.rmSync(file);
      fs.writeFileSync(cacheFile, JSON.stringify({key, tensors}));
      return tensors;
    }
    let m = r.error.match(/missing tensor '([^']+)'/) ?? r.error.match(/tensor '([^']+)' not found/);
    if (m) {
      const name = m[1];
      let shape = [1];
      const lm = name.match(/^blk\.(\d+)\.(.+)$/);
      if (lm) {
        for (let j = +lm[1] - 1; j >= 0; j--) {
          const prev = byName.get(`blk.${j}.${lm[2]}`);
          if (prev) {
            shape = [...prev.shape];
            break;
          }
        }
      }
      const t = {name, shape};
      tensors.push(t);
      byName.set(name, t);
      continue;
    }
    m = r.error.match(/tensor '([^']+)' has wrong shape; expected ([\d, ]+), got/);
    if (m && byName.has(m[1])) {
      const shape = m[2].split(",").map((s) => +s.trim()).filter((x) => Number.isFinite(x));
      while (shape.length > 1 && shape[shape.length - 1] === 1) shape.pop();
      const t = byName.get(m[1]);
      if (JSON.stringify(t.shape) === JSON.stringify(shape)) {
        throw new Error(`${f.name}: llama.cpp keeps rejecting the shape of ${m[1]}: ${r.error.slice(-400)}`);
      }
      t.shape = shape;
      continue;
    }
    const lines = r.error.split("\n").filter((l) => /error|failed|wrong|not found|missing/i.test(l));
    throw new Error(`${f.name}: llama.cpp refuses the model: ${lines.slice(-4).join(" | ") || r.error.slice(-600)}`);
  }
  throw new Error(`${f.name}: tensor discovery did not converge`);
}

// Writes the family's zero-weight GGUF; returns {path, bytes}.
export async function writeFamilyModel(llama, f, workDir) {
  fs.mkdirSync(workDir, {recursive: true});
  const tensors = await discoverTensors(llama, f, workDir);
  const file = path.join(workDir, `${f.name}.gguf`);
  const bytes = writeSparseGguf(file, familyKvs(f), tensors);
  return {path: file, bytes, tensors: tensors.length};
}

// CLI: node estimate_real_models.mjs <work dir> [family...]: writes the files.
import {fileURLToPath} from "node:url";
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const {families} = await import("./estimate_families.mjs");
  const [workDir, ...only] = process.argv.slice(2);
  if (!workDir) {
    console.error("usage: node estimate_real_models.mjs <work dir> [family...]");
    process.exit(2);
  }
  const llama = await cpuLlama();
  for (const f of families) {
    if (only.length && !only.includes(f.name)) continue;
    const t0 = Date.now();
    const r = await writeFamilyModel(llama, f, workDir);
    console.log(`${r.path}: ${r.tensors} tensors, ${(r.bytes / 2 ** 30).toFixed(2)} GiB apparent, ${Date.now() - t0} ms`);
  }
}
