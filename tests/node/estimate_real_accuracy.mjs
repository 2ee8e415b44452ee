// The estimator at real size: `ruvector-memopt ai plan` against llama.cpp's
// own allocation (node-llama-cpp 3.21.1's bundled llama.cpp, CPU backend,
// no_alloc dry run) on zero-weight GGUFs shaped like current models of every
// family in estimate_families.mjs.
//
// Grid per family: its three contexts (the last the long one) x 1 and 4
// sequences x {f16 without flash attention, f16 / q8_0 / q4_0 with it}
// (a quantized V cache needs flash attention), micro-batch 512; embedding
// models (non-causal) run with the micro-batch equal to the context, as
// llama.cpp requires for them. `--subset ci` keeps a representative part (every
// family, its shortest and longest context, 1 and 4 sequences alternating)
// that runs in a few minutes on 2 cores; the full grid is the documented
// command (docs/estimate-accuracy.md).
//
// For every row it writes one JSON record to --out and asserts:
//  - weights equal to the byte (llama.cpp's model memory breakdown),
//  - KV cache: cells, layers and sequences of every cache equal llama.cpp's
//    log, and the exact context bytes (KV + compute) minus our KV equal the
//    compute buffer llama.cpp logs (2 decimals of MiB, so +-5243 B),
//  - compute never under llama.cpp's and at most +10 % over.
// Rows knownMiss() lists are recorded and reported as misses instead of
// failing; a listed row that no longer misses fails (so the list stays true).
// Usage: node estimate_real_accuracy.mjs --probe build/estimate_probe --work DIR --out FILE.jsonl
//          [--subset ci|full] [--families a,b] [--table docs/estimate-accuracy.md]
//          [--contexts a,b,...]
import {execFileSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {checkedArchitectures, families} from "./estimate_families.mjs";
import {renderTable} from "./estimate_real_table.mjs";
import {cpuLlama, takeLog, writeFamilyModel} from "./estimate_real_models.mjs";
import {ggmlType} from "./llama_ground_truth.mjs";

// A command-line option's value (fallback when absent; without one, exit 2).
export function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (fallback !== undefined) return fallback;
    console.error(`missing ${name}`);
    process.exit(2);
  }
  return process.argv[i + 1];
}

// Rows the estimator is known to miss, by family and configuration, with why.
// A row listed here that no longer misses fails the run, so the list stays true.
export function knownMiss(family, c) {
  switch (family) {
    default:
      return null;
  }
}

// Rows outside the CI subset's contexts that once missed and were fixed from
// a ggml-alloc trace: CI keeps them so the fix stays asserted. qwen3next at
// 32k with flash attention: the final hidden state (h_nextn) above the f16
// KQ mask and the last attention output, the logits above it (11 E).
const kCiRegressionRows = {
  "qwen3-next-80b-a3b": [{ctx: 32768, seqs: 1, type: "f16", fa: true}, {ctx: 32768, seqs: 4, type: "q8_0", fa: true}],
};

// Contexts of the table's off-grid section.
const kOffGridContexts = [8192, 16384, 65536, 98304];

export function gridFor(f, subset) {
  const rows = [];
  const causal = f.kv["attention.causal"]?.v !== false;
  const kinds = [{type: "f16", fa: false}, {type: "f16", fa: true}, {type: "q8_0", fa: true}, {type: "q4_0", fa: true}];
  f.ctx.forEach((ctx, ci) => {
    for (const seqs of [1, 4]) {
      kinds.forEach((k, ki) => {
        if (subset === "ci") {
          if (ci === 1) return;  // shortest and longest context only
          if ((ki + seqs + ci) % 2 === 0) return;  // half the kinds, alternating
        }
        // An embedding model holds one sequence per context row; its graph spans the context.
        const ubatch = causal ? 512 : ctx;
        rows.push({ctx, seqs, ubatch, type: k.type, fa: k.fa});
      });
    }
  });
  if (subset === "ci") {
    for (const r of kCiRegressionRows[f.name] ?? []) rows.push({...r, ubatch: causal ? 512 : r.ctx});
  }
  return rows;
}

export function parseLog(lines) {
  const caches = [], recurrent = [];
  let computeMiB = null;
  for (const raw of lines) {
    const line = raw.trim();
    let m = line.match(/llama_kv_cache: size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers,\s*(\d+)\/(\d+) seqs\), K \((\w+)\):\s*([\d.]+) MiB, V \((\w+)\):\s*([\d.]+) MiB/);
    if (m) {
      caches.push({mib: +m[1], cells: +m[2], layers: +m[3], streams: +m[5], k_type: m[6], k_mib: +m[7], v_type: m[8], v_mib: +m[9]});
      continue;
    }
    m = line.match(/llama_memory_recurrent: size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers/);
    if (m) {
      recurrent.push({mib: +m[1], cells: +m[2], layers: +m[3]});
      continue;
    }
    m = line.match(/(?:llama_context|sched_reserve):\s+CPU compute buffer size =\s*([\d.]+) MiB/);
    if (m) computeMiB = parseFloat(m[1]);
  }
  return {caches, recurrent, compute_mib_2dp: computeMiB};
}

// Our figures for every row of one model, from one estimate_probe process
// (the estimator `ai plan --gpus none` calls, without the CLI around it).
function oursAll(probe, model, rows) {
  const specs = rows.map((c) => `${c.ctx}:${c.seqs}:${c.type}:${c.fa ? "on" : "off"}:${c.ubatch}`);
  const docs = execFileSync(probe, [model, ...specs], {encoding: "utf8"}).trim().split("\n").map((l) => JSON.parse(l));
  return docs.map((d) => ({weights: d.weights_bytes, kv: d.kv_bytes, recurrent: d.recurrent_bytes,
    compute: d.compute_bytes, output: d.output_bytes, cells_full: d.cells_full, cells_swa: d.cells_swa,
    streams: d.streams, checked: d.checked}));
}

export async function measureFamily(llama, f, modelPath, rows) {
  takeLog();
  const model = new llama._bindings.AddonModel(modelPath, {gpuLayers: 0, noAlloc: true, useMmap: false, useMlock: false});
  if (!(await model.init())) throw new Error(`${f.name}: llama.cpp did not load ${modelPath}`);
  const weights = model.getMemoryBreakdown().cpuRam;
  const out = [];
  const causal = f.kv["attention.causal"]?.v !== false;
  try {
    for (const c of rows) {
      takeLog();
      const ctx = new llama._bindings.AddonContext(model, {
        contextSize: c.ctx * c.seqs, batchSize: c.ubatch, sequences: c.seqs, flashAttention: c.fa,
        kvCacheKeyType: ggmlType[c.type], kvCacheValueType: ggmlType[c.type], swaFullCache: false,
        embeddings: !causal,
      });
      if (!(await ctx.init())) {
        throw new Error(`${f.name}: llama.cpp could not create a context for ${JSON.stringify(c)}: ` +
          takeLog().filter((l) => /error|fail/i.test(l)).slice(-3).join(" | "));
      }
      const context = ctx.getMemoryBreakdown().cpuRam;
      await ctx.dispose();
      out.push({config: c, weights, context, ...parseLog(takeLog())});
    }
  } finally {
    await model.dispose();
  }
  return out;
}

export function rowKey(name, c) {
  return `${name}|${c.ctx}|${c.seqs}|${c.type}|${c.fa ? "on" : "off"}`;
}

// Compares one row; returns the record with its failures.
export function compare(f, r, o) {
  const c = r.config;
  const MiB = 1048576;
  const computeLogged = Math.round(r.compute_mib_2dp * MiB);
  const oursState = o.kv + o.recurrent;
  const llamaCompute = r.context - oursState;  // exact when the KV check below holds
  const residual = r.context - oursState - computeLogged;
  const cacheCells = r.caches.map((k) => k.cells).sort((a, b) => a - b).join(",");
  const ourCells = [o.cells_full, o.cells_swa].filter((x) => x > 0).sort((a, b) => a - b).join(",");
  const logKvMiB = r.caches.reduce((s, k) => s + k.k_mib + k.v_mib, 0) + r.recurrent.reduce((s, k) => s + k.mib, 0);
  const rec = {
    family: f.name, arch: f.arch, model: f.model, config: c,
    ours: o,
    llama: {weights: r.weights, context: r.context, kv_caches: r.caches, recurrent: r.recurrent,
      compute_mib_2dp: r.compute_mib_2dp, compute: llamaCompute},
    error: {
      weights_bytes: o.weights - r.weights,
      kv_residual_bytes: residual,
      kv_log_mib: oursState / MiB - logKvMiB,
      compute_pct: 100 * (o.compute - llamaCompute) / llamaCompute,
      total_pct: 100 * (o.weights + oursState + o.compute - r.weights - r.context) / (r.weights + r.context),
    },
    failures: [],
  };
  const fail = (ok, what) => { if (!ok) rec.failures.push(what); };
  fail(r.compute_mib_2dp != null, "no compute line in llama.cpp's log");
  fail(o.checked === true, `the estimator does not list ${f.arch} as checked`);
  fail(rec.error.weights_bytes === 0, `weights off by ${rec.error.weights_bytes} B`);
  if (r.caches.length > 0 || o.cells_full > 0 || o.cells_swa > 0) {
    fail(cacheCells === ourCells, `KV cells ${ourCells || "none"} vs llama.cpp ${cacheCells || "none"}`);
    const streams = r.caches.map((k) => k.streams);
    fail(streams.every((s) => s === o.streams), `KV streams ${o.streams} vs llama.cpp ${streams.join(",")}`);
  }
  // 2-decimal MiB figures: half a hundredth per printed number.
  const logTolerance = 0.005 * (2 * r.caches.length + r.recurrent.length) + 1e-9;
  fail(Math.abs(rec.error.kv_log_mib) <= logTolerance,
    `KV ${(oursState / MiB).toFixed(2)} MiB vs llama.cpp's log ${logKvMiB.toFixed(2)} MiB`);
  fail(Math.abs(residual) <= 5243, `KV differs from llama.cpp's (context residual ${residual} B)`);
  fail(o.compute >= llamaCompute, `compute under llama.cpp's by ${llamaCompute - o.compute} B (${rec.error.compute_pct.toFixed(2)}%)`);
  fail(o.compute <= llamaCompute * 1.10, `compute ${rec.error.compute_pct.toFixed(2)}% over (limit +10%)`);
  return rec;
}

import {fileURLToPath} from "node:url";
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const probe = arg("--probe"), work = arg("--work"), outFile = arg("--out");
  const subset = arg("--subset", "full");
  const only = arg("--families", "").split(",").filter(Boolean);
  const tableFile = arg("--table", "");
  // --contexts a,b,...: the grid at these contexts instead of each family's
  // own (off-grid checks; capped at the family's trained context).
  const contexts = arg("--contexts", "").split(",").filter(Boolean).map(Number);
  if (contexts.some((c) => !Number.isInteger(c) || c < 1 || c > 1048576) || (contexts.length && tableFile)) {
    console.error("--contexts takes whole numbers in 1..1048576, and no --table");
    process.exit(2);
  }
  if (!["ci", "full"].includes(subset)) {
    console.error("--subset is ci or full");
    process.exit(2);
  }
  fs.mkdirSync(work, {recursive: true});
  const llama = await cpuLlama();
  const t0 = Date.now();
  const lines = [], unexpected = [], stillKnown = new Set();
  for (const family of families) {
    if (only.length && !only.includes(family.name)) continue;
    const file = await writeFamilyModel(llama, family, work);
    const f = contexts.length
      ? {...family, ctx: contexts.filter((c) => c <= family.kv.context_length.v)}
      : family;
    if (!f.ctx.length) continue;
    const rows = gridFor(f, subset);
    const mine = oursAll(probe, file.path, rows);
    const measured = await measureFamily(llama, f, file.path, rows);
    for (const [i, r] of measured.entries()) {
      const rec = compare(f, r, mine[i]);
      const key = rowKey(f.name, r.config);
      rec.known_miss = knownMiss(f.name, r.config);
      lines.push(JSON.stringify(rec));
      if (rec.failures.length && !rec.known_miss) unexpected.push(`${key}: ${rec.failures.join("; ")}`);
      if (rec.known_miss) {
        stillKnown.add(key);
        if (!rec.failures.length) unexpected.push(`${key}: listed as a known miss but now within bounds; remove it`);
      }
    }
    process.stderr.write(`${f.name}: ${rows.length} rows, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  fs.writeFileSync(outFile, lines.join("\n") + "\n");
  const wall = (Date.now() - t0) / 1000;
  if (tableFile) {
    // The table also shows the same grid at contexts between and beyond the
    // families' own (up to each one's trained context): reported, not
    // asserted, so the table says where the model has not been fitted.
    const offGrid = {contexts: kOffGridContexts, recs: []};
    for (const family of families) {
      if (only.length && !only.includes(family.name)) continue;
      const f = {...family, ctx: kOffGridContexts.filter((c) => c <= family.kv.context_length.v && !family.ctx.includes(c))};
      if (!f.ctx.length) continue;
      const file = await writeFamilyModel(llama, family, work);
      const rows = gridFor(f, "full");
      const mine = oursAll(probe, file.path, rows);
      const measured = await measureFamily(llama, f, file.path, rows);
      for (const [i, r] of measured.entries()) offGrid.recs.push(compare(f, r, mine[i]));
      process.stderr.write(`${f.name}: ${rows.length} off-grid rows, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    const command = "node tests/node/estimate_real_accuracy.mjs --probe build/estimate_probe " +
      "--work build/real_models --out build/estimate_accuracy_real.jsonl --table docs/estimate-accuracy.md";
    fs.writeFileSync(tableFile, renderTable(lines.map((l) => JSON.parse(l)),
      {command, wallSeconds: wall, offGridSeconds: (Date.now() - t0) / 1000 - wall, cpus: os.cpus().length, offGrid}));
    console.log(`table written to ${tableFile}`);
  }
  // The estimator's checked list and the families here must agree.
  const probeChecked = JSON.parse(execFileSync(probe, ["--checked"], {encoding: "utf8"}));
  if (JSON.stringify(probeChecked) !== JSON.stringify(checkedArchitectures())) {
    unexpected.push(`checked architectures differ: estimator ${probeChecked.join(",")} vs families ${checkedArchitectures().join(",")}`);
  }
  console.log(`${lines.length} rows (${subset}) written to ${outFile} in ${((Date.now() - t0) / 1000).toFixed(1)} s on ${os.cpus().length} CPUs`);
  if (unexpected.length) {
    console.error(unexpected.join("\n"));
    process.exit(1);
  }
}
