#!/usr/bin/env bash
# ai_plan_cli: runs `ruvector-memopt ai plan` on the tiny models as a user
# would: CPU-only and what-if GPU plans, launch flags, JSON values, a plan that
# does not fit, and broken input (exit codes 1 and 2, never a crash).
# Args: <binary> <make_tiny_models binary>
set -euo pipefail
BIN="$1"; MAKE="$2"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$MAKE" "$WORK" >/dev/null
LLAMA="$WORK/tiny-llama-gqa.gguf"; GEMMA="$WORK/tiny-gemma2-swa.gguf"; MOE="$WORK/tiny-qwen3moe.gguf"
narrow() { awk 'length($0) > 80 { bad = 1 } END { exit bad }' <<<"$1" || fail "a line is wider than 80 columns: $2"; }
jget() { node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(JSON.stringify(eval("d."+process.argv[1])))' "$1"; }

# CPU-only, said plainly; 4 layers + output in RAM; exact weights.
out="$("$BIN" ai plan "$LLAMA" --gpus none --ram 64GiB --ctx 1024)"
echo "$out"
grep -q 'CPU-only plan' <<<"$out" || fail "CPU-only verdict"
grep -qE '^CPU \(RAM\) +4\+o +1\.3 MiB +1\.0 MiB' <<<"$out" || fail "CPU row"
grep -q -- '-ngl 0 -c 1024 -np 1 -fa on' <<<"$out" || fail "llama.cpp flags"
narrow "$out" "cpu-only"
json="$("$BIN" --json ai plan "$LLAMA" --gpus none --ram 64GiB --ctx 1024)"
[ "$(jget schema <<<"$json")" = '"ruvector-memopt.ai-plan/1"' ] || fail schema
[ "$(jget 'devices[0].weights_bytes' <<<"$json")" = 1331712 ] || fail "weights bytes"
[ "$(jget 'devices[0].kv_bytes' <<<"$json")" = 1048576 ] || fail "kv bytes"

# What-if: two GPUs, small runtime overhead; everything fits, split 2:1-ish.
json="$("$BIN" --json ai plan "$LLAMA" --vram 100MiB,50MiB --gpu-overhead 1MiB --ram 64GiB --parallel 2 --ctx 1024)"
[ "$(jget fully_on_gpu <<<"$json")" = true ] || fail "fully on GPU"
[ "$(jget 'layers_per_gpu.reduce((a,b)=>a+b)' <<<"$json")" = 5 ] || fail "layers per GPU sum"
args="$(jget 'launch.llama_cpp_args.join(" ")' <<<"$json")"
grep -q -- '-ngl 5 -c 2048 -np 2 -ts ' <<<"$args" || fail "flags with -ts and -c = ctx x parallel: $args"
[ "$(jget 'launch.ollama_options.num_ctx' <<<"$json")" = '"1024"' ] || fail "Ollama num_ctx is per sequence"
[ "$(jget 'kv_cache.streams' <<<"$json")" = 2 ] || fail "two KV streams"

# One bar per device (w weights, k KV, c compute, . free) against the memory
# the plan may use: each letter's cells follow the plan's bytes (cells by
# running total over 44, as util's bar_cells gives them out), lines fit 80
# columns, and nothing in them is a control character.
bars_match() {  # text, json, what, letters some bar must show
  BARS_TEXT="$1" BARS_NEED="$4" node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const lines = process.env.BARS_TEXT.split("\n");
    let n = 0, seen = "";
    for (const dev of d.devices) {
      const name = dev.kind === "gpu" ? `GPU ${dev.id}` : "CPU (RAM)";
      const line = lines.find((l) => l.startsWith(name.padEnd(10) + " ["));
      if (dev.kind === "cpu" && dev.layers === 0 && !dev.holds_output) {
        if (line) throw new Error(`a bar for ${name}, which holds nothing`);
        continue;
      }
      if (!line) throw new Error(`no bar for ${name}`);
      const parts = [dev.weights_bytes, dev.kv_bytes + dev.recurrent_bytes,
        dev.compute_bytes + dev.output_bytes + dev.overhead_bytes, dev.draft_bytes + dev.projector_bytes];
      let run = 0, cell = 0, want = "";
      parts.forEach((b, i) => {
        run += b;
        const end = Math.round(Math.min(1, run / dev.limit_bytes) * 44);
        const k = Math.max(0, Math.min(end, 44) - cell);
        want += "wkcm"[i].repeat(k);
        cell += k;
      });
      want = "[" + want.padEnd(44, ".") + "]";
      const got = line.slice(11, 11 + 46);
      if (got !== want) throw new Error(`${name}: bar ${got}, want ${want} from ${JSON.stringify(parts)} of ${dev.limit_bytes}`);
      if (dev.total_bytes * 44 >= dev.limit_bytes && !/[wkcm]/.test(got)) throw new Error(`${name}: an empty bar: ${line}`);
      seen += got.replace(/[^wkcm]/g, "");
      n++;
    }
    if (n === 0) throw new Error("no device bar");
    if (process.env.BARS_NEED && !process.env.BARS_NEED.split("").every((c) => seen.includes(c)))
      throw new Error(`the bars show ${seen}, not every one of ${process.env.BARS_NEED}`);
    console.log(`${n} device bar(s) match the plan`);
  ' <<<"$2" || fail "device bars: $3"
  grep -q '^w weights, k KV cache, c compute' <<<"$1" || fail "bar legend: $3"
  LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" <<<"$1" && fail "control character in: $3"
  narrow "$1" "$3"
}
# (args | letters that must show somewhere: the small sizes make weights and
# KV visible on a small device)
for row in "--vram 20MiB --gpu-overhead 1MiB --ram 32MiB --ctx 4096 --parallel 2|wkc" \
           "--vram 16MiB,8MiB --gpu-overhead 1MiB --ram 32MiB --ctx 2048 --parallel 2|wkc" \
           "--vram 3MiB --gpu-overhead 1MiB --ram 8MiB --ctx 512|wkc" \
           "--gpus none --ram 16MiB --ctx 4096 --parallel 2|wkc"; do
  args="${row%|*}"
  # shellcheck disable=SC2086
  out="$("$BIN" ai plan "$LLAMA" $args || true)"; json="$("$BIN" --json ai plan "$LLAMA" $args || true)"
  echo "$out" | grep -E '^(GPU [0-9]+|CPU \(RAM\)) +\['
  bars_match "$out" "$json" "$args" "${row#*|}"
done

# Sliding window: the window cache is reported next to the full one.
json="$("$BIN" --json ai plan "$GEMMA" --gpus none --ram 64GiB --ctx 4096)"
[ "$(jget 'kv_cache.cells_swa' <<<"$json")" = 768 ] || fail "SWA cells"

# --ctx max with a q8_0 cache: the largest context that fits is used.
json="$("$BIN" --json ai plan "$MOE" --vram 20MiB --gpu-overhead 1MiB --ram 64GiB --ctx max --kv-type q8_0)"
ctx="$(jget 'settings.ctx_per_seq' <<<"$json")"
[ "$ctx" = "$(jget 'max_context_fully_on_gpu.q8_0' <<<"$json")" ] || fail "ctx max uses the q8_0 maximum"
[ "$ctx" -gt 0 ] || fail "ctx max found nothing"

# An Ollama model name, resolved in a store laid out as Ollama does.
HEX="$(sha256sum "$LLAMA" | cut -d' ' -f1)"
mkdir -p "$WORK/store/manifests/registry.ollama.ai/library/tiny" "$WORK/store/blobs"
cp "$LLAMA" "$WORK/store/blobs/sha256-$HEX"
cat >"$WORK/store/manifests/registry.ollama.ai/library/tiny/latest" <<JSON
{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:$HEX","size":$(stat -c %s "$LLAMA")}]}
JSON
json="$("$BIN" --json ai plan tiny --ollama-models "$WORK/store" --gpus none --ram 64GiB --ctx 1024)"
[ "$(jget 'model.architecture' <<<"$json")" = '"llama"' ] || fail "Ollama name resolved"
[ "$(jget 'devices[0].weights_bytes' <<<"$json")" = 1331712 ] || fail "Ollama model weights"
expect_rc_early() { set +e; "$BIN" "$@" >/dev/null 2>&1; local rc=$?; set -e; echo $rc; }
[ "$(expect_rc_early ai plan nosuchmodel:1b --ollama-models "$WORK/store" --gpus none)" = 1 ] || fail "unknown Ollama name"

# Does not fit anywhere: exit 1, plain verdict, no flags.
set +e
out="$("$BIN" ai plan "$LLAMA" --vram 1MiB --ram 4MiB 2>&1)"; rc=$?
set -e
echo "$out"
[ $rc -eq 1 ] || fail "does-not-fit exit code $rc"
grep -q 'does not fit' <<<"$out" || fail "does-not-fit verdict"
grep -q 'llama.cpp  -ngl' <<<"$out" && fail "flags printed for a plan that will not load"
narrow "$out" "does-not-fit"

# Broken input.
expect_rc() {  # expected rc, message regex, args...
  local want="$1" re="$2"; shift 2
  set +e; local o; o="$("$BIN" "$@" 2>&1)"; local rc=$?; set -e
  [ $rc -eq "$want" ] || fail "exit $rc (want $want) for: $* -> $o"
  grep -qE "$re" <<<"$o" || fail "message '$re' missing for: $* -> $o"
}
expect_rc 1 "no GGUF file at" ai plan "$WORK/missing.gguf" --gpus none
expect_rc 2 "not a KV cache type" ai plan "$LLAMA" --gpus none --kv-type q9_9
expect_rc 1 "needs flash attention" ai plan "$LLAMA" --gpus none --ram 1GiB --kv-type q8_0 --flash-attn off
expect_rc 2 "whole number" ai plan "$LLAMA" --gpus none --ctx lots
expect_rc 2 "vram" ai plan "$LLAMA" --vram 12XB
expect_rc 2 "flash-attn" ai plan "$LLAMA" --flash-attn maybe
head -c 4096 /dev/urandom >"$WORK/garbage.gguf"
expect_rc 1 "garbage.gguf" ai plan "$WORK/garbage.gguf" --gpus none
head -c 100 "$LLAMA" >"$WORK/truncated.gguf"
expect_rc 1 "truncated.gguf" ai plan "$WORK/truncated.gguf" --gpus none
# The GPU margin follows the active profile (100 - reserve_vram_percent):
# local_llm 90 -> 10% kept free, batch_inference 95 -> 5%; --reserve-percent wins.
export XDG_STATE_HOME="$WORK/state" XDG_CONFIG_HOME="$WORK/config"
gpu_limit() { "$BIN" --json ai plan "$LLAMA" --vram 100MiB --gpu-overhead 1MiB --ram 64GiB --ctx 1024 "$@" |
  jget 'devices.find(d=>d.kind=="gpu").limit_bytes'; }
[ "$(gpu_limit)" = 94371840 ] || fail "local_llm margin: $(gpu_limit)"
"$BIN" ai profile batch_inference >/dev/null
[ "$(gpu_limit)" = 99614720 ] || fail "batch_inference margin: $(gpu_limit)"
[ "$(gpu_limit --reserve-percent 0)" = 104857600 ] || fail "pinned margin"
mkdir -p "$WORK/config/ruvector-memopt"
printf '[ai_mode.batch_inference]\nreserve_vram_percent = "lots"\n' >"$WORK/config/ruvector-memopt/config.toml"
expect_rc 1 "config.toml" ai plan "$LLAMA" --vram 100MiB
echo "ai plan CLI: ok"
