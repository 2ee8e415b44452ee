// Ground truth for the memory estimator: loads a GGUF through the real
// llama.cpp bundled with node-llama-cpp (CPU backend) and reports llama.cpp's
// own byte figures for each context configuration:
//  - no_alloc dry run (node-llama-cpp's V2 simulator: llama_model/llama_context
//    created with no_alloc, memory_breakdown() summed per device),
//  - a real load of the same configuration (memory_breakdown() of real buffers),
//  - llama.cpp's log lines for the KV cache (cells and layers per cache) and the
//    compute buffer (MiB with 4 decimals, printed when the context is freed),
//  - node-llama-cpp's V1 formula estimates on the same file.
import fs from "node:fs";
import {getLlama, LlamaLogLevel, readGgufFileInfo, GgufInsights} from "node-llama-cpp";

export const ggmlType = {f32: 0, f16: 1, q4_0: 2, q4_1: 3, q5_0: 6, q5_1: 7, q8_0: 8, iq4_nl: 20, bf16: 30};

export function parseContextLog(lines) {
  const caches = [];
  let computeMiB4 = null;
  for (const raw of lines) {
    const line = raw.trim();
    let m = line.match(/llama_kv_cache: size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers,\s*(\d+)\/(\d+) seqs\), K \((\w+)\):\s*([\d.]+) MiB, V \((\w+)\):\s*([\d.]+) MiB/);
    if (m) {
      caches.push({cells: +m[2], layers: +m[3], streams: +m[5], k_type: m[6], k_mib: +m[7], v_type: m[8], v_mib: +m[9]});
      continue;
    }
    m = line.match(/~llama_context:\s+CPU compute buffer size is\s+([\d.]+) MiB/);
    if (m) computeMiB4 = parseFloat(m[1]);
  }
  return {caches, compute_mib_4dp: computeMiB4};
}

// Measures every configuration of one model; returns one record per config.
// One llama.cpp instance for the whole process: node-llama-cpp keeps the
// first instance's logger, so every measurement shares this log buffer.
let logLines = [];
let llamaInstance = null;
async function cpuLlama() {
  if (!llamaInstance) {
    llamaInstance = await getLlama({
      gpu: false,
      logLevel: LlamaLogLevel.debug,
      logger: (_level, message) => { logLines.push(message); },
    });
  }
  return llamaInstance;
}

// The shared CPU llama.cpp instance, for other checks in the same process,
// and its log since the last clearLog() (llama.cpp's own lines).
export async function sharedCpuLlama() { return cpuLlama(); }
export function clearLog() { logLines = []; }
export function logText() { return logLines.join("\n"); }

export async function measure(modelPath, configs) {
  const llama = await cpuLlama();
  const model = await llama.loadModel({modelPath, gpuLayers: 0, useMmap: false});
  const realWeights = model._model.getMemoryBreakdown();
  const fileInfo = await readGgufFileInfo(modelPath);
  const insights = await GgufInsights.from(fileInfo, llama);
  // The V2 simulator session (not exported by the package; reached through the
  // insights object, as node-llama-cpp's own estimateContextResourceRequirementsV2
  // does). Called directly so the exact ctx/batch we ask for is simulated.
  const session = insights._createSimulatorSession();
  const dryWeights = await session.estimateModelResources({modelSource: modelPath, gpuLayers: 0, useMmap: false});
  const v1Weights = insights.estimateModelResourceRequirements({gpuLayers: 0, useMmap: false});
  const records = [];
  for (const c of configs) {
    const params = {
      contextSize: c.ctx * c.seqs, batchSize: c.ubatch, sequences: c.seqs, flashAttention: c.fa,
      kvCacheKeyType: ggmlType[c.type], kvCacheValueType: ggmlType[c.type],
    };
    const dry = await session.estimateContextResources({
      modelSource: modelPath, gpuLayers: 0, useMmap: false, ...params, swaFullCache: false});
    logLines = [];
    const ctx = new llama._bindings.AddonContext(model._model, params);
    if (!(await ctx.init())) throw new Error(`llama.cpp failed to create a context for ${JSON.stringify(c)}`);
    const real = ctx.getMemoryBreakdown();
    await ctx.dispose();
    // The context is freed on a worker thread; its destructor logs the compute
    // buffer size. Wait for that line (bounded: 5 s).
    for (let i = 0; i < 100 && !logLines.some((l) => l.includes("~llama_context")); i++)
      await new Promise((r) => setTimeout(r, 50));
    const log = parseContextLog(logLines);
    const v1 = insights.estimateContextResourceRequirements({
      contextSize: c.ctx * c.seqs, modelGpuLayers: 0, batchSize: c.ubatch, sequences: c.seqs, flashAttention: c.fa,
      kvCacheKeyType: ggmlType[c.type], kvCacheValueType: ggmlType[c.type]});
    records.push({
      config: c,
      weights_bytes: {real: realWeights.cpuRam, dry_run: dryWeights.cpuRam, v1: v1Weights.cpuRam},
      context_bytes: {real: real.cpuRam, dry_run: dry.cpuRam, v1: v1.cpuRam},
      kv_caches: log.caches,
      compute_mib_4dp: log.compute_mib_4dp,
    });
  }
  await session.dispose();
  await model.dispose();
  return records;
}

// CLI: node llama_ground_truth.mjs <model.gguf> <configs.json>
// configs.json: [{"ctx":512,"ubatch":512,"seqs":1,"type":"f16","fa":false}, ...]
// (ctx is per sequence.) Prints one JSON object per configuration.
import {fileURLToPath} from "node:url";
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [modelPath, configsPath] = process.argv.slice(2);
  if (!modelPath || !configsPath) {
    console.error("usage: node llama_ground_truth.mjs <model.gguf> <configs.json>");
    process.exit(2);
  }
  const configs = JSON.parse(fs.readFileSync(configsPath, "utf8"));
  for (const r of await measure(modelPath, configs)) console.log(JSON.stringify({model: modelPath, ...r}));
}
