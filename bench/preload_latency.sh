#!/usr/bin/env bash
# First-token latency of a session's first request on the real llama.cpp,
# cold vs preloaded (issue 15, "2x faster model loading via predictive
# preloading"), in one run: the gateway (`serve`) fronts one model whose
# `command` is the node-llama-cpp server (tests/node/openai_server.mjs) on a
# tiny generated GGUF. Cold: a gateway without preloading gets the request
# and must start the backend first. Preloaded: a gateway with preload = true
# and a request log saying this model is asked for at this hour of the week
# starts it on its own; the request comes once /serve/state shows it ready
# (a user arriving after the idle moment). The two alternate, each
# repetition in fresh gateways; medians at the end. Each preloaded run must
# show the request as a preload hit, or the script fails.
# Usage: bench/preload_latency.sh <ruvector-memopt> <make_tiny_models> [repetitions] [--json]
set -euo pipefail
BIN=$(realpath "$1")
MAKE_TINY=$(realpath "$2")
REPS=${3:-5}
JSON=${4:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/memopt_preload_XXXXXX)
GPID=
cleanup() {
  [ -n "$GPID" ] && kill "$GPID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config
"$MAKE_TINY" "$WORK/models" >/dev/null
MODEL=$WORK/models/tiny-llama-gqa.gguf
SERVER=$ROOT/tests/node/openai_server.mjs

config() {  # config <file> <preload: true|false>
  cat >"$1" <<TOML
[serve]
listen = "127.0.0.1:0"
memory_budget = "64GiB"
preload = $2
preload_idle_seconds = 0
[serve.models."tiny-a"]
command = ["node", "$SERVER", "--model", "$MODEL", "--port", "\${PORT}", "--ctx-size", "512"]
TOML
}
config "$WORK/cold.toml" false
config "$WORK/pre.toml" true

# A request log that makes tiny-a the likeliest model now: ten requests at
# this time of the week in each of the last four weeks.
seed_log() {  # seed_log <state dir>
  mkdir -p "$1"
  local now_ms week_ms=$((7 * 86400 * 1000))
  now_ms=$(($(date +%s) * 1000))
  {
    echo "# ruvector-memopt serve request log 1"
    for w in 4 3 2 1; do
      for _ in $(seq 1 10); do echo "$((now_ms - w * week_ms)) tiny-a"; done
    done
  } >"$1/serve-requests.log"
}

start_gateway() {  # start_gateway <config> <state dir>; sets GPID, GPORT
  mkdir -p "$2"
  "$BIN" --json serve --config "$1" --state-dir "$2" --log-dir "$2/logs" \
    >"$2/gw.out" 2>"$2/gw.err" &
  GPID=$!
  GPORT=
  for _ in $(seq 1 100); do [ -s "$2/gw.out" ] && break; sleep 0.1; done
  GPORT=$(head -1 "$2/gw.out" | sed -E 's/.*"listening":([0-9]+).*/\1/')
  [ -n "$GPORT" ] || { echo "serve did not start"; cat "$2/gw.err"; exit 1; }
}
stop_gateway() {
  kill "$GPID" 2>/dev/null || true
  wait "$GPID" 2>/dev/null || true
  GPID=
}

cd "$ROOT/tests/node"
# measure <port> <wait for preload: 0|1>: prints "ttft_ms load_seconds hits"
measure() {
  node --input-type=module - "$1" "$2" <<'JS'
const [port, waitPreload] = process.argv.slice(2).map(Number);
const base = `http://127.0.0.1:${port}`;
const state = async () => (await fetch(`${base}/serve/state`)).json();
const model = async () => (await state()).models.find((m) => m.name === "tiny-a");
if (waitPreload) {
  const deadline = Date.now() + 120000;
  while ((await model()).state !== "ready") {
    if (Date.now() > deadline) { console.log("never-preloaded"); process.exit(1); }
    await new Promise((r) => setTimeout(r, 50));
  }
}
const t0 = performance.now();
const r = await fetch(`${base}/v1/chat/completions`, {method: "POST",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({model: "tiny-a", stream: true, max_tokens: 4,
                        messages: [{role: "user", content: "hi"}]})});
const reader = r.body.getReader();
const dec = new TextDecoder();
let buf = "", ttft = null;
for (;;) {
  const {value, done} = await reader.read();
  if (done) break;
  buf += dec.decode(value, {stream: true});
  if (ttft === null && /"content":"[^"]/.test(buf)) ttft = performance.now() - t0;
}
const m = await model();
const ready = (await state()).events.find((e) => e.event === "ready" && e.model === "tiny-a");
console.log(`${(ttft ?? -1).toFixed(1)} ${ready ? ready.load_seconds.toFixed(2) : -1} ${m.preload_hits}`);
JS
}

cold=() pre=() loads=()
for i in $(seq 1 "$REPS"); do
  S=$WORK/run$i
  start_gateway "$WORK/cold.toml" "$S-cold"
  read -r t l h < <(measure "$GPORT" 0)
  stop_gateway
  cold+=("$t"); loads+=("$l")
  seed_log "$S-pre"
  start_gateway "$WORK/pre.toml" "$S-pre"
  read -r t l h < <(measure "$GPORT" 1)
  stop_gateway
  [ "$t" != "never-preloaded" ] || { echo "run $i: the model was never preloaded"; exit 1; }
  [ "$h" = "1" ] || { echo "run $i: the request was not a preload hit (hits $h)"; exit 1; }
  pre+=("$t")
  [ -n "$JSON" ] || echo "run $i: cold ${cold[-1]} ms, preloaded $t ms (load ${loads[-1]} s)"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
MC=$(median "${cold[@]}")
MP=$(median "${pre[@]}")
ML=$(median "${loads[@]}")
SPEEDUP=$(awk -v c="$MC" -v p="$MP" 'BEGIN {printf "%.1f", (p > 0) ? c / p : 0}')
if [ -n "$JSON" ]; then
  printf '{"schema":"ruvector-memopt.preload-latency/1","repetitions":%s,"cold_ttft_ms":[%s],"preloaded_ttft_ms":[%s],"median_cold_ttft_ms":%s,"median_preloaded_ttft_ms":%s,"median_load_seconds":%s,"speedup":%s}\n' \
    "$REPS" "$(IFS=,; echo "${cold[*]}")" "$(IFS=,; echo "${pre[*]}")" "$MC" "$MP" "$ML" "$SPEEDUP"
else
  echo
  echo "First token of a session's first request (tiny llama, node-llama-cpp, $REPS runs each):"
  printf '  %-28s %10s ms\n' "cold (start on request)" "$MC" "preloaded (predictor)" "$MP"
  printf '  %-28s %10s s\n' "backend load (median)" "$ML"
  echo "  speed-up: ${SPEEDUP}x"
fi
# Fails when preloading did not help at all.
awk -v c="$MC" -v p="$MP" 'BEGIN {exit !(p < c)}'
