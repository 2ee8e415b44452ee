// Prints the estimator accuracy table (markdown) from the JSON records that
// estimate_accuracy.mjs wrote. Usage: node accuracy_table.mjs build/estimate_accuracy.jsonl
import fs from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node accuracy_table.mjs <estimate_accuracy.jsonl>");
  process.exit(2);
}
const recs = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const kib = (b) => (b / 1024).toFixed(1);
const pct = (x) => (x >= 0 ? "+" : "") + x.toFixed(2) + "%";
console.log("| model | ctx x seq | ub | KV | FA | weights diff (B) | KV residual (B) | llama.cpp KV+compute (KiB) | ours (KiB) | compute err | ours total err | V1 total err |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
let oursAbs = 0, v1Abs = 0, maxCompute = -Infinity, minCompute = Infinity;
for (const r of recs) {
  const c = r.config, e = r.error;
  oursAbs += Math.abs(e.total_pct);
  v1Abs += Math.abs(e.v1_total_pct);
  maxCompute = Math.max(maxCompute, e.compute_pct);
  minCompute = Math.min(minCompute, e.compute_pct);
  console.log(`| ${r.model} | ${c.ctx} x ${c.seqs} | ${c.ubatch} | ${c.type} | ${c.fa ? "on" : "off"} | ${e.weights_bytes} | ${e.kv_residual_bytes} | ${kib(r.llama.context)} | ${kib(r.ours.kv + r.ours.compute)} | ${pct(e.compute_pct)} | ${pct(e.total_pct)} | ${pct(e.v1_total_pct)} |`);
}
console.log("");
console.log(`${recs.length} configurations. Mean |total error|: ours ${(oursAbs / recs.length).toFixed(2)}%, node-llama-cpp V1 ${(v1Abs / recs.length).toFixed(2)}%. Compute error range ${pct(minCompute)} .. ${pct(maxCompute)}.`);
console.log("KV residual: llama.cpp's exact KV+compute bytes minus our KV minus its compute buffer as logged with 4 decimals (resolution +-52 B); KV cells and layers per cache equal llama.cpp's.");
console.log("Totals exclude the logits output buffer, which llama.cpp's memory breakdown does not count (ours adds it on top).");
