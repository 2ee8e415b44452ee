#!/usr/bin/env bash
# Header parse of the 1,000-tensor / 150,000-token model: our reader (median
# of 15 runs, Google Benchmark) side by side with @huggingface/gguf 0.4.6 on
# the same file (median of 15 in-process runs after one warm-up), and the ratio.
# Usage: bench/gguf_vs_hf.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
cmake --build "$BUILD" --target gguf_reader_bench >/dev/null
MODEL="$("$BUILD/gguf_reader_bench" --write-model)"
ours_ms="$("$BUILD/gguf_reader_bench" --benchmark_filter=BM_ReadGgufHeader --benchmark_format=json \
  | node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8"));
             const m=d.benchmarks.find(b=>b.aggregate_name==="median"); console.log(m.real_time.toFixed(3));')"
hf_ms="$(cd tests/node && node --input-type=module -e '
  import { gguf } from "@huggingface/gguf";
  const path = process.argv[1];
  const times = [];
  await gguf(path, { allowLocalFile: true });  // warm-up
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    const r = await gguf(path, { allowLocalFile: true });
    times.push(performance.now() - t0);
    if (r.tensorInfos.length !== 1000) throw new Error("unexpected tensor count");
  }
  times.sort((a, b) => a - b);
  console.log(times[7].toFixed(3));' "$MODEL")"
echo "model: $MODEL (1000 tensors, 150000-token vocabulary)"
echo "ruvector-memopt read_gguf   median ${ours_ms} ms"
echo "@huggingface/gguf 0.4.6     median ${hf_ms} ms"
node -e "console.log('ratio (hf / ours): ' + (${hf_ms} / ${ours_ms}).toFixed(1) + 'x')"
