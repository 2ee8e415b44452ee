#!/usr/bin/env bash
# Overhead of polling every runtime client once a second on a real server.
#
# Starts the real llama.cpp (node-llama-cpp, tests/node/openai_server.mjs) on
# a tiny generated model, then measures `ai benchmark` tokens/s alternately
# without and with a 1 Hz loop that runs `ai models` with all seven runtime
# clients pointed at that same server (each client's status calls hit it;
# the CLI process start-up also competes for the same CPUs, so this is a
# pessimistic stand-in for the daemon's in-process poller).
# Prints each run and the ratio of the medians. Target: < 1 % loss.
#
# usage: bench/runtimes_polling_overhead.sh BUILD_DIR [PAIRS] [REQUESTS] [MAX_TOKENS]
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [PAIRS] [REQUESTS] [MAX_TOKENS]}
pairs=${2:-3}
requests=${3:-40}
max_tokens=${4:-64}
src=$(cd "$(dirname "$0")/.." && pwd)
cli="$build/ruvector-memopt"
work=$(mktemp -d)
server_pid=""
poller_pid=""
cleanup() {
  [ -n "$poller_pid" ] && kill "$poller_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$build/make_tiny_models" "$work" >/dev/null
node "$src/tests/node/openai_server.mjs" --model "$work/tiny-llama-gqa.gguf" --sequences 1 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  grep -q LISTENING "$work/server.log" 2>/dev/null && break
  sleep 0.1
done
port=$(awk '/LISTENING/{print $2}' "$work/server.log")
[ -n "$port" ] || { echo "server did not start:"; cat "$work/server.log"; exit 1; }
url="http://127.0.0.1:$port"

bench() {
  "$cli" --json ai benchmark --endpoint "$url" --requests "$requests" --concurrency 1 \
    --prompt-tokens 8 --max-tokens "$max_tokens" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["errors"]==0, d["error_samples"]; print(d["tokens_per_s"])'
}

poll_loop() {
  local n=0
  while true; do
    "$cli" --json ai models --ollama-host "$url" --llamacpp "$url" --vllm "$url" --sglang "$url" \
      --tgi "$url" --comfyui "$url" --a1111 "$url" >/dev/null 2>&1 || true
    n=$((n + 1))
    echo "$n" >"$work/polls"
    sleep 1
  done
}

bench >/dev/null  # warm-up
base=()
polled=()
for i in $(seq 1 "$pairs"); do
  b=$(bench)
  poll_loop &
  poller_pid=$!
  sleep 1
  p=$(bench)
  kill "$poller_pid"; wait "$poller_pid" 2>/dev/null || true; poller_pid=""
  echo "pair $i: without polling $b tokens/s, with 1 Hz polling $p tokens/s"
  base+=("$b")
  polled+=("$p")
done
python3 - "${base[*]}" "${polled[*]}" "$(cat "$work/polls" 2>/dev/null || echo 0)" <<'PY'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]
p = [float(x) for x in sys.argv[2].split()]
mb, mp = statistics.median(b), statistics.median(p)
print(f"median without polling: {mb:.1f} tokens/s; with polling: {mp:.1f} tokens/s")
print(f"throughput ratio (with/without): {mp/mb:.4f}  -> loss {100*(1-mp/mb):.2f} %")
PY
