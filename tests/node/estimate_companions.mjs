// `ai plan --draft / --lora / --mmproj`, Ollama manifests that name a
// projector and adapters, and `--emit ollama`, against the real llama.cpp
// (node-llama-cpp 3.21.1's bundled build, CPU backend) where it can be asked:
//  - draft: a model like any other. Its weights equal llama.cpp's to the byte,
//    its KV cache equals llama.cpp's at the main context's size and sequences
//    (context bytes minus the logged compute buffer, +-53 B of rounding), its
//    compute buffer is never under llama.cpp's and at most 16% over (the tiny
//    models' bound in estimate_accuracy.mjs); the plan's totals carry exactly
//    the draft's bytes; `--emit llama-args` prints -md FILE -ngld N.
//  - LoRA: an adapter generated from the model's own tensor table is accepted
//    by llama.cpp (createContext with it); llama.cpp's "LoRA buffer size" log
//    (MiB, 2 decimals) equals ours, and our bytes equal the tensors' sizes read
//    back by node-llama-cpp; an adapter for another architecture is refused
//    by both.
//  - projector: weights from its tensors to the byte; the compute figure is
//    labelled unchecked (node-llama-cpp cannot load a projector).
//  - RoPE scaling: a context 4x the trained one (YaRN) against llama.cpp's
//    own context of that size (cells and KV exact, compute as above).
//  - Ollama: a generated store whose manifest has image.projector and
//    image.adapter layers resolves both; --emit ollama prints Modelfile lines.
// Usage: node estimate_companions.mjs --memopt BIN --make-models BIN --work DIR
import {execFileSync, spawnSync} from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {readGgufFileInfo} from "node-llama-cpp";
import {GGML, tensorBytes, writeSparseGguf} from "./gguf_sparse.mjs";
import {clearLog, logText, measure, sharedCpuLlama} from "./llama_ground_truth.mjs";

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    console.error(`missing ${name}`);
    process.exit(2);
  }
  return process.argv[i + 1];
}
const memopt = arg("--memopt"), makeModels = arg("--make-models"), work = arg("--work");
fs.mkdirSync(work, {recursive: true});
const models = execFileSync(makeModels, [work], {encoding: "utf8"}).trim().split("\n");
const main = models.find((m) => m.includes("llama"));
const draft = models.find((m) => m.includes("gemma2"));
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const run = (args) => spawnSync(memopt, args, {encoding: "utf8"});
const planArgs = (extra) => ["ai", "plan", main, "--reserve-percent", "0", ...extra];
function planJson(extra) {
  const r = run(["--json", ...planArgs(extra)]);
  if (r.status !== 0) throw new Error(`ai plan ${extra.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const pad = (x, n) => Math.ceil(x / n) * n;
const cpuOnly = ["--gpus", "none", "--ram", "64GiB"];
const whatIf = ["--vram", "256MiB", "--gpu-overhead", "0", "--ram", "64GiB"];

// ---- draft ----------------------------------------------------------------
{
  const ctx = 1024, seqs = 2;
  const settings = ["--ctx", String(ctx), "--parallel", String(seqs)];
  const plain = planJson([...cpuOnly, ...settings]);
  const doc = planJson([...cpuOnly, ...settings, "--draft", draft]);
  const d = doc.companions.draft;
  check(d && d.path === draft && d.n_gpu_layers === 0 && d.n_ctx === ctx * seqs && d.type_k === "f16",
    `draft: ${JSON.stringify(d)}`);
  const [r] = await measure(draft, [{ctx, ubatch: 512, seqs, type: "f16", fa: true}]);
  const compute = Math.round(r.compute_mib_4dp * 1048576);
  const llamaKv = r.context_bytes.real - compute;
  check(d.weights_bytes === r.weights_bytes.real, `draft weights ${d.weights_bytes} vs llama.cpp ${r.weights_bytes.real}`);
  check(Math.abs(d.kv_bytes - llamaKv) <= 53, `draft KV ${d.kv_bytes} vs llama.cpp ${llamaKv}`);
  const llamaCompute = r.context_bytes.real - d.kv_bytes;
  check(d.compute_bytes >= llamaCompute && d.compute_bytes <= llamaCompute * 1.16,
    `draft compute ${d.compute_bytes} vs llama.cpp ${llamaCompute}`);
  check(doc.devices[0].draft_bytes === d.total_bytes &&
    doc.devices[0].total_bytes - plain.devices[0].total_bytes === d.total_bytes,
    `draft bytes not carried in the host total: ${doc.devices[0].draft_bytes} / ${d.total_bytes}`);
  const text = run([...planArgs([...cpuOnly, ...settings, "--draft", draft])]).stdout;
  check(text.includes(`Draft     ${path.basename(draft)}: 0 of ${d.block_count + 1} layers on the GPU (-ngld 0)`),
    `draft text line missing:\n${text}`);
  // A GPU with room: the draft goes on it whole, and the arguments say so.
  const g = planJson([...whatIf, ...settings, "--draft", draft]);
  const gd = g.companions.draft;
  check(gd.n_gpu_layers === gd.block_count + 1 && g.devices[1].draft_bytes === gd.gpu_bytes && gd.gpu_bytes > 0,
    `draft on the GPU: ngld ${gd.n_gpu_layers}, GPU bytes ${g.devices[1].draft_bytes} / ${gd.gpu_bytes}`);
  const emit = run(planArgs([...whatIf, ...settings, "--draft", draft, "--emit", "llama-args"]));
  check(emit.status === 0 && emit.stdout.includes(`-md ${draft} -ngld ${gd.block_count + 1}`),
    `draft --emit: '${emit.stdout.trim()}' ${emit.stderr}`);
  const pinned = planJson([...whatIf, ...settings, "--draft", draft, "--ngld", "2"]);
  check(pinned.companions.draft.n_gpu_layers === 2, `--ngld 2: ${pinned.companions.draft.n_gpu_layers}`);
  const tooMany = run(planArgs([...whatIf, "--draft", draft, "--ngld", "99"]));
  check(tooMany.status === 1 && tooMany.stderr.includes("-ngld 99 is more than the draft model's"),
    `--ngld 99: exit ${tooMany.status} ${tooMany.stderr}`);
  const noDraft = run(planArgs([...whatIf, "--ngld", "2"]));
  check(noDraft.status === 2 && noDraft.stderr.includes("--ngld needs --draft"), `--ngld alone: ${noDraft.stderr}`);
}

// ---- RoPE-scaled context beyond the trained one ----------------------------
{
  // The tiny llama was trained on 4096 tokens; YaRN x4 reaches 16384. KV and
  // compute there against llama.cpp's own context of that size.
  const ctx = 16384;
  const doc = planJson([...cpuOnly, "--ctx", String(ctx), "--rope-scaling", "yarn", "--rope-scale", "4"]);
  const cpu = doc.devices[0];
  const [r] = await measure(main, [{ctx, ubatch: 512, seqs: 1, type: "f16", fa: true}]);
  const llamaKv = r.context_bytes.real - Math.round(r.compute_mib_4dp * 1048576);
  check(doc.kv_cache.cells_full === ctx && r.kv_caches[0]?.cells === ctx,
    `yarn x4: cells ${doc.kv_cache.cells_full} vs llama.cpp ${r.kv_caches[0]?.cells}`);
  check(Math.abs(cpu.kv_bytes - llamaKv) <= 53, `yarn x4: KV ${cpu.kv_bytes} vs llama.cpp ${llamaKv}`);
  const llamaCompute = r.context_bytes.real - cpu.kv_bytes;
  check(cpu.compute_bytes >= llamaCompute && cpu.compute_bytes <= llamaCompute * 1.16,
    `yarn x4: compute ${cpu.compute_bytes} vs llama.cpp ${llamaCompute}`);
  check(doc.launch.llama_cpp_args.join(" ").includes("--rope-scaling yarn --rope-scale 4 --yarn-orig-ctx 4096"),
    `yarn x4 arguments: ${doc.launch.llama_cpp_args.join(" ")}`);
}

// ---- LoRA -----------------------------------------------------------------
// One llama.cpp per process: node-llama-cpp keeps the first instance's logger.
const llama = await sharedCpuLlama();
const mainInfo = await readGgufFileInfo(main);
function writeLora(file, arch, rank) {
  const tensors = [];
  for (const t of mainInfo.fullTensorInfo) {
    if (!/^blk\.\d+\.attn_(q|v)\.weight$/.test(t.name) && t.name !== "output.weight") continue;
    const [nIn, nOut] = t.dimensions.map(Number);
    tensors.push({name: `${t.name}.lora_a`, shape: [nIn, rank], type: GGML.f32});
    tensors.push({name: `${t.name}.lora_b`, shape: [rank, nOut], type: GGML.f32});
  }
  writeSparseGguf(file, [
    ["general.architecture", {t: "str", v: arch}], ["general.type", {t: "str", v: "adapter"}],
    ["adapter.type", {t: "str", v: "lora"}], ["adapter.lora.alpha", {t: "f32", v: 32}],
  ], tensors);
  return tensors;
}
const loraFile = path.join(work, "tiny-llama-lora.gguf");
const loraTensors = writeLora(loraFile, "llama", 16);
{
  const plain = planJson([...cpuOnly, "--ctx", "1024"]);
  const doc = planJson([...cpuOnly, "--ctx", "1024", "--lora", loraFile]);
  const a = doc.companions.adapters[0];
  const back = await readGgufFileInfo(loraFile);
  const bytes = back.fullTensorInfo.reduce((s, t) => s + tensorBytes(t.dimensions.map(Number), t.ggmlType), 0);
  const padded = back.fullTensorInfo.reduce((s, t) => s + pad(tensorBytes(t.dimensions.map(Number), t.ggmlType), 32), 0);
  check(a && a.tensors === loraTensors.length && a.bytes === bytes && a.host_bytes === padded && a.alpha === 32,
    `LoRA: ${JSON.stringify(a)} vs ${loraTensors.length} tensors, ${bytes} B (${padded} padded)`);
  check(doc.devices[0].weights_bytes - plain.devices[0].weights_bytes === a.host_bytes,
    `LoRA not in the host weights: ${doc.devices[0].weights_bytes - plain.devices[0].weights_bytes} vs ${a.host_bytes}`);
  const emit = run(planArgs([...cpuOnly, "--lora", loraFile, "--emit", "llama-args"]));
  check(emit.stdout.includes(`--lora ${loraFile}`), `LoRA --emit: '${emit.stdout.trim()}'`);
  // Layers on a GPU take their pairs along: 2 of 4 layers + output on it.
  const g = planJson([...whatIf, "--ngl", "3", "--lora", loraFile]);
  const gp = planJson([...whatIf, "--ngl", "3"]);
  const onGpu = g.devices[1].weights_bytes - gp.devices[1].weights_bytes;
  check(onGpu > 0 && onGpu + (g.devices[0].weights_bytes - gp.devices[0].weights_bytes) === a.host_bytes,
    `LoRA split with -ngl 3: GPU +${onGpu}, host +${g.devices[0].weights_bytes - gp.devices[0].weights_bytes}`);

  // The real llama.cpp applies it, and logs its buffer.
  const model = await llama.loadModel({modelPath: main, gpuLayers: 0, useMmap: false});
  clearLog();
  let context = null;
  try {
    context = await model.createContext({contextSize: 1024, lora: {adapters: [{filePath: loraFile}]}});
  } catch (e) {
    check(false, `llama.cpp refused the LoRA: ${e.message}`);
  }
  if (context) {
    // llama.cpp's log reaches JavaScript asynchronously: wait (at most 5 s)
    // for the adapter's last line.
    for (let i = 0; i < 100 && !/loaded \d+ tensors from lora file/.test(logText()); i++)
      await new Promise((r) => setTimeout(r, 50));
    const log = logText();
    const m = log.match(/LoRA buffer size =\s*([\d.]+) MiB/);
    check(m && m[1] === (a.host_bytes / 1048576).toFixed(2),
      `llama.cpp's LoRA buffer ${m ? m[1] : "not logged"} MiB vs ours ${(a.host_bytes / 1048576).toFixed(2)}`);
    const n = log.match(/loaded (\d+) tensors from lora file/);
    check(n && +n[1] === a.tensors, `llama.cpp loaded ${n ? n[1] : "?"} LoRA tensors, ours ${a.tensors}`);
    await context.dispose();
  }
  // An adapter for another architecture: refused by both.
  const wrongFile = path.join(work, "tiny-gemma2-lora.gguf");
  writeLora(wrongFile, "gemma2", 16);
  const wrong = run(planArgs([...cpuOnly, "--lora", wrongFile]));
  check(wrong.status === 1 && wrong.stderr.includes("is a LoRA for 'gemma2' but the model is 'llama'"),
    `wrong-arch LoRA: exit ${wrong.status} ${wrong.stderr}`);
  let refused = false;
  try {
    const c = await model.createContext({contextSize: 1024, lora: {adapters: [{filePath: wrongFile}]}});
    await c.dispose();
  } catch {
    refused = true;
  }
  check(refused, "llama.cpp accepted a LoRA for another architecture (the plan refuses it)");
  await model.dispose();
}

// ---- projector --------------------------------------------------------------
const mmprojFile = path.join(work, "tiny-mmproj.gguf");
const mmTensors = [
  {name: "v.patch_embd.weight", shape: [14, 14, 3, 128], type: GGML.f16},
  {name: "v.blk.0.attn_q.weight", shape: [128, 128], type: GGML.q8_0},
  {name: "v.blk.0.ffn_up.weight", shape: [128, 512], type: GGML.f16},
  {name: "mm.0.weight", shape: [128, 128], type: GGML.f32},
];
writeSparseGguf(mmprojFile, [
  ["general.architecture", {t: "str", v: "clip"}], ["clip.projector_type", {t: "str", v: "mlp"}],
  ["clip.has_vision_encoder", {t: "bool", v: true}], ["clip.vision.image_size", {t: "u32", v: 336}],
  ["clip.vision.patch_size", {t: "u32", v: 14}], ["clip.vision.embedding_length", {t: "u32", v: 128}],
  ["clip.vision.feed_forward_length", {t: "u32", v: 512}],
  ["clip.vision.attention.head_count", {t: "u32", v: 4}], ["clip.vision.block_count", {t: "u32", v: 1}],
], mmTensors);
{
  const plain = planJson([...cpuOnly]);
  const doc = planJson([...cpuOnly, "--mmproj", mmprojFile]);
  const p = doc.companions.projector;
  const host = mmTensors.reduce((s, t) => s + pad(tensorBytes(t.shape, t.type), 32), 0);
  check(p && p.weights_bytes === host && p.on_gpu === false && p.positions === 577,
    `projector: ${JSON.stringify(p)} vs weights ${host}`);
  check(p && p.compute_checked === false && p.compute_label.startsWith("unchecked"),
    `projector compute not labelled unchecked: ${JSON.stringify(p)}`);
  check(doc.devices[0].projector_bytes === p.weights_bytes + p.compute_bytes &&
    doc.devices[0].total_bytes - plain.devices[0].total_bytes === p.weights_bytes + p.compute_bytes,
    "projector bytes not carried in the host total");
  const text = run(planArgs([...cpuOnly, "--mmproj", mmprojFile])).stdout.replace(/\s+/g, " ");
  check(text.includes("Projector tiny-mmproj.gguf (mlp) on the CPU") &&
    text.includes("unchecked: node-llama-cpp 3.21.1 cannot load a projector"), `projector text:\n${text}`);
  const g = planJson([...whatIf, "--mmproj", mmprojFile]);
  check(g.companions.projector.on_gpu === true && g.devices[1].projector_bytes ===
    g.companions.projector.weights_bytes + g.companions.projector.compute_bytes,
    `projector on the GPU: ${JSON.stringify(g.companions.projector)}`);
  const emit = run(planArgs([...whatIf, "--mmproj", mmprojFile, "--emit", "llama-args"]));
  check(emit.status === 0 && emit.stdout.includes(`--mmproj ${mmprojFile}`) && !emit.stdout.includes("--no-mmproj-offload"),
    `projector --emit: '${emit.stdout.trim()}'`);
  // A GPU too small for the projector beside the model: it goes to the host.
  const tight = doc.devices[0].weights_bytes + doc.devices[0].kv_bytes + 8 * 1048576;
  const t = planJson(["--vram", String(tight), "--gpu-overhead", "0", "--ram", "64GiB", "--mmproj", mmprojFile]);
  check(t.fits && t.fully_on_gpu && t.companions.projector.on_gpu === false &&
    t.launch.llama_cpp_args.includes("--no-mmproj-offload"),
    `tight GPU: fully_on_gpu ${t.fully_on_gpu}, projector on_gpu ${t.companions.projector.on_gpu}, ${t.launch.llama_cpp_args.join(" ")}`);
}

// ---- Ollama store -----------------------------------------------------------
{
  const root = path.join(work, "ollama");
  fs.rmSync(root, {recursive: true, force: true});
  fs.mkdirSync(path.join(root, "blobs"), {recursive: true});
  const blob = (file) => {
    const hex = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    fs.copyFileSync(file, path.join(root, "blobs", `sha256-${hex}`));
    return {digest: `sha256:${hex}`, size: fs.statSync(file).size, path: path.join(root, "blobs", `sha256-${hex}`)};
  };
  const m = blob(main), pj = blob(mmprojFile), ad = blob(loraFile);
  const dir = path.join(root, "manifests/registry.ollama.ai/library/tinyvision");
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, "latest"), JSON.stringify({schemaVersion: 2, layers: [
    {mediaType: "application/vnd.ollama.image.model", digest: m.digest, size: m.size},
    {mediaType: "application/vnd.ollama.image.projector", digest: pj.digest, size: pj.size},
    {mediaType: "application/vnd.ollama.image.adapter", digest: ad.digest, size: ad.size},
  ]}));
  const store = ["--ollama-models", root];
  const r = run(["--json", "ai", "plan", "tinyvision", ...store, ...cpuOnly, "--reserve-percent", "0"]);
  const doc = r.status === 0 ? JSON.parse(r.stdout) : null;
  check(doc && doc.companions.projector?.path === pj.path && doc.companions.adapters[0]?.path === ad.path,
    `Ollama manifest companions: exit ${r.status} ${r.stderr} ${doc ? JSON.stringify(doc.companions) : ""}`);
  const mf = run(["ai", "plan", "tinyvision", ...store, ...cpuOnly, "--reserve-percent", "0", "--ctx", "2048", "--emit", "ollama"]);
  check(mf.status === 0 && mf.stdout.startsWith("FROM tinyvision\nPARAMETER num_ctx 2048\nPARAMETER num_gpu 0\n") &&
    mf.stdout.includes("# ollama serve environment: OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=f16 OLLAMA_NUM_PARALLEL=1"),
    `--emit ollama (store): exit ${mf.status} '${mf.stdout}' ${mf.stderr}`);
  const file = run(planArgs([...whatIf, "--lora", loraFile, "--emit", "ollama"]));
  check(file.status === 0 && file.stdout.startsWith(`FROM ${main}\nADAPTER ${loraFile}\nPARAMETER num_ctx 4096\nPARAMETER num_gpu 5\n`),
    `--emit ollama (file): exit ${file.status} '${file.stdout}' ${file.stderr}`);
  const withDraft = run(planArgs([...whatIf, "--draft", draft, "--emit", "ollama"]));
  check(withDraft.status === 1 && withDraft.stdout === "" && withDraft.stderr.includes("Ollama has no speculative draft model"),
    `--emit ollama --draft: exit ${withDraft.status} ${withDraft.stderr}`);
}

if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("companions: draft (weights, KV, compute vs llama.cpp), LoRA (accepted by llama.cpp, buffer equal), " +
  "projector (weights exact, compute labelled unchecked), Ollama manifest and --emit ollama: all checks passed");
