#!/usr/bin/env bash
# Every bad option value is a usage error: exit code 2 and a message on
# stderr naming the option and the value, never a silent default and never
# exit 1 (README: 0 ok, 1 runtime failure, 2 usage error). Runs before any
# model, runtime or GPU is needed, so no fixture is read.
set -uo pipefail
BIN=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export HOME="$WORK" XDG_CONFIG_HOME="$WORK/config" XDG_STATE_HOME="$WORK/state"
unset OLLAMA_HOST OLLAMA_MODELS
fail=0
n=0
# expect_usage "<words the message must hold, |-separated>" args...
expect_usage() {
  local want=$1
  shift
  n=$((n + 1))
  # A check that lets the value through would start the command: bounded.
  timeout 20 "$BIN" --sys-root "$WORK/sys" --nvml-library "$WORK/none.so" "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [ $rc -ne 2 ]; then
    echo "FAIL: '$*' exited $rc, want 2; stderr: $(head -c 300 "$WORK/err")"
    fail=1
    return
  fi
  local IFS='|'
  for w in $want; do
    if ! grep -qF -- "$w" "$WORK/err"; then
      echo "FAIL: '$*': stderr does not name '$w': $(head -c 300 "$WORK/err")"
      fail=1
    fi
  done
}
mkdir -p "$WORK/sys"
P=(ai plan nosuch.gguf)
expect_usage "profile|nosuch" ai profile nosuch --state-dir "$WORK/state" --config "$WORK/none.toml"
expect_usage "nosuch" ai profile show nosuch --state-dir "$WORK/state" --config "$WORK/none.toml"
expect_usage "usage: ai profile" ai profile one two --state-dir "$WORK/state" --config "$WORK/none.toml"
expect_usage "--ctx|lots" "${P[@]}" --ctx lots
expect_usage "--ctx|-5" "${P[@]}" --ctx=-5
expect_usage "--vram|12XB" "${P[@]}" --vram 12XB
expect_usage "--vram|,," "${P[@]}" --vram ,,
expect_usage "--ram|5parsecs" "${P[@]}" --ram 5parsecs
expect_usage "--gpu-overhead|lots" "${P[@]}" --gpu-overhead lots
expect_usage "--kv-type|q9_9" "${P[@]}" --kv-type q9_9
expect_usage "--tensor-split|nan" "${P[@]}" --tensor-split nan
expect_usage "--tensor-split|inf" "${P[@]}" --tensor-split 1,inf
expect_usage "--tensor-split|-1" "${P[@]}" --tensor-split=3,-1
expect_usage "--tensor-split|0,0" "${P[@]}" --tensor-split 0,0
expect_usage "--tensor-split|3x" "${P[@]}" --tensor-split 3x,1
expect_usage "--gpus|first" "${P[@]}" --gpus first
expect_usage "--reserve-percent|nan" "${P[@]}" --reserve-percent nan
expect_usage "--reserve-percent|95" "${P[@]}" --reserve-percent 95
expect_usage "--flash-attn|maybe" "${P[@]}" --flash-attn maybe
expect_usage "--parallel|0" "${P[@]}" --parallel 0
expect_usage "--ngl|many" "${P[@]}" --ngl many
expect_usage "--ngl|-1" "${P[@]}" --ngl=-1
expect_usage "--n-cpu-moe|-2" "${P[@]}" --n-cpu-moe=-2
expect_usage "--interval|0" daemon --interval 0 --no-api --samples 1
expect_usage "--interval|-1" daemon --interval=-1 --no-api --samples 1
expect_usage "--interval|nan" daemon --interval nan --no-api --samples 1
expect_usage "--interval|inf" daemon --interval inf --no-api --samples 1
expect_usage "--detect-interval|nan" daemon --detect-interval nan --no-api --samples 1
expect_usage "--samples|-1" daemon --samples=-1 --no-api
expect_usage "--interval|nan" ai watch --interval nan --frames 1
expect_usage "--interval|0" ai watch --interval 0 --frames 1
expect_usage "--frames|0" ai watch --frames 0
expect_usage "--daemon|ftp://x" ai watch --daemon ftp://x
expect_usage "--wait|nan" ai unload some-model --wait nan
expect_usage "--runtime|nosuch" ai unload some-model --runtime nosuch
expect_usage "--keep-alive|soon" ai preload some-model --keep-alive soon
expect_usage "--runtime|nosuch" ai preload some-model --runtime nosuch
expect_usage "--num-ctx|0" ai preload some-model --num-ctx 0
expect_usage "--wait|inf" vram clear --wait inf
expect_usage "--wait|-1" vram defrag --wait=-1
expect_usage "--requests|0" ai benchmark --requests 0
expect_usage "--timeout-ms|10" ai models --timeout-ms 10
expect_usage "--top|5000" model inspect x.gguf --top 5000
expect_usage "--listen|localhost" ai dashboard --listen localhost
expect_usage "--listen|h:99999" ai dashboard --listen h:99999
[ $fail -eq 0 ] && echo "usage_errors: $n bad invocations, each exit 2 naming the option and value"
exit $fail
