#!/usr/bin/env bash
# model_inspect_cli: runs `ruvector-memopt model inspect` as a user would and
# checks its output, JSON document and exit codes. Args: <binary> <sample.gguf> <fixtures dir>
set -euo pipefail
BIN="$1"; SAMPLE="$2"; FIXTURES="$3"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Human output: the facts of the sample (4 layers, 8/2 heads, Q8_0) within 80 columns.
out="$("$BIN" model inspect "$SAMPLE")"
echo "$out"
grep -q '^ruvector-sample-llama  (llama, Q8_0, GGUF v3)$' <<<"$out" || fail "title line"
grep -q 'attention   8 heads, 2 KV heads (GQA 4:1), head size 32/32 (K/V)' <<<"$out" || fail "attention line"
grep -q 'layers      4, embedding 256, feed-forward 768' <<<"$out" || fail "layers line"
grep -qE '^  q8_0 +30 +3\.2 MiB +99\.7%$' <<<"$out" || fail "type table"
awk 'length($0) > 80 { bad = 1 } END { exit bad }' <<<"$out" || fail "a line is wider than 80 columns"

# JSON: one document with the schema and exact values.
"$BIN" --json model inspect "$SAMPLE" >"$WORK/out.json"
node -e '
  const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const eq = (a, b, what) => { if (JSON.stringify(a) !== JSON.stringify(b)) { console.error(`FAIL ${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`); process.exit(1); } };
  eq(d.schema, "ruvector-memopt.model-inspect/1", "schema");
  eq(d.architecture, "llama", "architecture");
  eq(d.hyperparameters.head_count_kv, [2, 2, 2, 2], "head_count_kv");
  eq(d.hyperparameters.block_count, 4, "block_count");
  eq(d.tensor_count, 39, "tensor_count");
  eq(d.file_type, {id: 7, name: "Q8_0"}, "file_type");
  eq(d.weights.layer_weight_bytes.length, 4, "layers");
  eq(d.bytes_per_type.map(t => t.type), ["q8_0", "f32"], "types");
  eq(d.metadata["tokenizer.ggml.tokens"].count, 288, "vocab summary");
  eq(d.largest_tensors.length, 10, "largest");
' "$WORK/out.json" || fail "json"

# An Ollama name resolved through a store laid out like Ollama's.
mkdir -p "$WORK/store/manifests/registry.ollama.ai/library/llama3.2" "$WORK/store/blobs"
cp "$FIXTURES/ollama-manifest.json" "$WORK/store/manifests/registry.ollama.ai/library/llama3.2/3b"
cp "$SAMPLE" "$WORK/store/blobs/sha256-dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff"
out="$(OLLAMA_MODELS="$WORK/store" "$BIN" model inspect llama3.2:3b)"
grep -q '  ollama      llama3.2:3b' <<<"$out" || fail "ollama line"
out="$("$BIN" --json model inspect --ollama-models "$WORK/store" library/llama3.2:3b)"
grep -q '"kind": "ollama"' <<<"$out" || fail "ollama json"

# Runtime failures exit 1 with the reason on stderr; usage errors exit 2.
set +e
"$BIN" model inspect "$WORK/missing.gguf" 2>"$WORK/err"; rc=$?
[ $rc -eq 1 ] || fail "missing file exit $rc"
grep -q "cannot open $WORK/missing.gguf: No such file or directory" "$WORK/err" || fail "missing file message"
head -c 5000 "$SAMPLE" >"$WORK/cut.gguf"
"$BIN" model inspect "$WORK/cut.gguf" 2>"$WORK/err"; rc=$?
[ $rc -eq 1 ] || fail "truncated file exit $rc"
grep -qE "cut.gguf: byte [0-9]+: " "$WORK/err" || fail "truncated message: $(cat "$WORK/err")"
OLLAMA_MODELS="$WORK/store" "$BIN" model inspect qwen2:7b 2>"$WORK/err"; rc=$?
[ $rc -eq 1 ] || fail "unknown ollama model exit $rc"
grep -q "Ollama model 'qwen2:7b' not found" "$WORK/err" || fail "ollama message"
"$BIN" model inspect >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "usage exit $rc"
set -e
echo "model_inspect_cli: ok"
