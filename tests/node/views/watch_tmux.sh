#!/usr/bin/env bash
# `ai watch` through a real terminal: tmux runs the dashboard, send-keys
# presses keys, capture-pane reads the screen. Checks the numbers from a
# fixture /proc, a live change, resize, colours and NO_COLOR, q and Ctrl-C
# leaving the terminal restored, TERM=dumb, and the daemon mode against a
# replay daemon (keys reach its API with the token).
# Usage: watch_tmux.sh BINARY SCRIPT_DIR [FAKE_NVML GPU_FIXTURE_ROOT [MAKE_TINY_MODELS]]
# (the optional parts are skipped, and say so, when empty).
set -euo pipefail
BIN=$(realpath "$1")
HERE=$(realpath "$2")
FAKE_NVML=${3:-}
GPU_FIXTURE=${4:-}
MAKE_TINY=${5:-}
WORK=$(mktemp -d)
# Profiles and the active-profile state live here, never in the user's home.
export XDG_CONFIG_HOME="$WORK/config" XDG_STATE_HOME="$WORK/state"
# One tmux server per run, each on its own socket: reusing a socket right
# after kill-server races with the old server's exit.
RUN=0
SOCK="memopt-watch-$$-0"
T() { tmux -L "$SOCK" "$@"; }
cleanup() {
  for i in $(seq 0 "$RUN"); do tmux -L "memopt-watch-$$-$i" kill-server 2>/dev/null || true; done
  [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null || true
  [ -n "${LLAMA_PID:-}" ] && kill "$LLAMA_PID" 2>/dev/null || true
  [ -n "${ROUTER_PID:-}" ] && kill "$ROUTER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- screen ---" >&2
  T capture-pane -p -t w 2>/dev/null >&2 || true
  exit 1
}
screen() { T capture-pane -p -t w; }
# Waits (bounded, 10 s) until the screen shows the fixed string $1.
wait_for() {
  for _ in $(seq 150); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  fail "screen never showed '$1'"
}
wait_gone() {
  for _ in $(seq 150); do
    screen | grep -qF -- "$1" || return 0
    sleep 0.1
  done
  fail "screen still shows '$1'"
}
# The command's exit status, written by the pane's shell (tmux's own
# pane_dead_status was seen to stay empty under ctest).
pane_dead() { [ -s "$WORK/rc.$RUN" ]; }
exit_status() { cat "$WORK/rc.$RUN"; }
wait_dead() {
  for _ in $(seq 100); do pane_dead && return 0; sleep 0.1; done
  fail "watch did not exit ($1)"
}
start() {  # start NAME COMMAND...: a fresh 100x30 session running COMMAND
  T kill-server 2>/dev/null || true
  RUN=$((RUN + 1))
  SOCK="memopt-watch-$$-$RUN"
  # remain-on-exit is set before the command starts, so even an instant
  # exit leaves its status to read.
  T -f /dev/null start-server \; set-option -g remain-on-exit on \; \
    new-session -d -s w -x 100 -y 30 "$*; echo \$? >$WORK/rc.$RUN"
}

meminfo() {  # meminfo TOTAL_KB AVAILABLE_KB
  mkdir -p "$WORK/proc"
  printf 'MemTotal:       %s kB\nMemFree:        1000 kB\nMemAvailable:   %s kB\nSwapTotal:      0 kB\nSwapFree:       0 kB\n' \
    "$1" "$2" >"$WORK/proc/meminfo.tmp"
  mv "$WORK/proc/meminfo.tmp" "$WORK/proc/meminfo"
}

# 1. Standalone on a fixture /proc: 32 GiB total, 20 GiB available -> 12 GiB used.
meminfo 33554432 20971520
start "TERM=xterm-256color $BIN --proc-root $WORK/proc ai watch --interval 0.2"
wait_for "12.0 GiB / 32.0 GiB   38%"
wait_for "ruvector-memopt ai watch | standalone"
wait_for "u unload  p profile  o optimize"
# Colour is on: the captured escapes carry SGR colour codes.
T capture-pane -e -p -t w | grep -q $'\e\\[3[0-7]m\|\e\\[38;5;[0-9]' || fail "no colour escapes with TERM=xterm-256color"

# 2. The reading follows the file: 8 GiB available -> 24 GiB used.
meminfo 33554432 8388608
wait_for "24.0 GiB / 32.0 GiB   75%"

# 3. Resize to 60 columns: every line fits, the numbers are still there.
T resize-window -t w -x 60 -y 20
wait_for "24.0 GiB / 32.0 GiB   75%"
width=$(screen | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$width" -le 60 ] || fail "a line is $width columns wide after resize to 60"

# 4. q quits with status 0 and leaves the alternate screen.
T send-keys -t w q
wait_dead step1
[ "$(exit_status)" = "0" ] || fail "q: exit status $(exit_status), not 0"
[ "$(T display -p -t w '#{alternate_on}')" = "0" ] || fail "q: terminal left in the alternate screen"

# 5. NO_COLOR: no colour escapes; Ctrl-C exits cleanly and restores the terminal.
start "NO_COLOR=1 TERM=xterm-256color $BIN --proc-root $WORK/proc ai watch --interval 0.2"
wait_for "24.0 GiB / 32.0 GiB"
if T capture-pane -e -p -t w | grep -q $'\e\\[3[0-7]m\|\e\\[38;5;[0-9]'; then fail "colour escapes with NO_COLOR=1"; fi
T send-keys -t w C-c
wait_dead step2
[ "$(exit_status)" = "0" ] || fail "Ctrl-C: exit status $(exit_status), not 0"
[ "$(T display -p -t w '#{alternate_on}')" = "0" ] || fail "Ctrl-C: terminal left in the alternate screen"

# 6. TERM=dumb: the plain view prints frames as text and quits on "q<Enter>".
start "TERM=dumb $BIN --proc-root $WORK/proc ai watch --interval 0.3"
wait_for "24.0 GiB / 32.0 GiB   75%"
[ "$(T display -p -t w '#{alternate_on}')" = "0" ] || fail "TERM=dumb used the alternate screen"
T send-keys -t w q Enter
wait_dead step3
[ "$(exit_status)" = "0" ] || fail "TERM=dumb: exit status $(exit_status), not 0"

# 7. Attached to a daemon (a replay of its API): GPU, models, history; keys
#    reach the API with the bearer token.
: >"$WORK/posts.ndjson"
node "$HERE/fake_daemon.mjs" "$HERE/daemon_status.json" "$WORK/posts.ndjson" "$WORK/port" &
DAEMON_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || fail "replay daemon did not start"
PORT=$(cat "$WORK/port")
printf 'test-token\n' >"$WORK/token"
chmod 600 "$WORK/token"
start "TERM=xterm-256color $BIN ai watch --daemon http://127.0.0.1:$PORT --token-file $WORK/token --interval 0.3"
wait_for "http://127.0.0.1:$PORT | profile local_llm"
wait_for "GPU0 NVIDIA GeForce RTX 4090  67C  231/450 W  util 93%"
wait_for "18.5 GiB / 24.0 GiB   77%"
wait_for "16.0 GiB / 64.0 GiB   25%"
wait_for ">ollama    llama3.2:3b"
wait_for " qwen2:7b"
screen | grep -E "qwen2:7b +2231 +3.7G +1.6G +70%" >/dev/null || fail "qwen2:7b row figures"
wait_for "VRAM % of all GPUs (last 29s)"
# Select the second model and unload it.
T send-keys -t w Down
wait_for ">ollama    qwen2:7b"
T send-keys -t w u
wait_for "unload qwen2:7b: ok"
wait_for "unload ollama/qwen2:7b: requested through the API [ok]"
# The unloaded model's row is gone (it stays named in the actions line).
if screen | grep -qE "^.ollama +qwen2:7b"; then fail "qwen2:7b row still shown after unload"; fi
grep -F '"path":"/api/v1/unload"' "$WORK/posts.ndjson" | grep -F 'Bearer test-token' | grep -qF '\"model\":\"qwen2:7b\"' ||
  fail "unload POST not recorded: $(cat "$WORK/posts.ndjson")"
T send-keys -t w p
wait_for "| profile batch_inference"
grep -F '"path":"/api/v1/profile"' "$WORK/posts.ndjson" | grep -qF '\"name\":\"batch_inference\"' || fail "profile POST"
T send-keys -t w o
wait_for "optimize: 0 actions"
grep -F '"path":"/api/v1/optimize"' "$WORK/posts.ndjson" | grep -qF '\"apply\":true' || fail "optimize POST"
screen >"${WATCH_SCREEN_OUT:-/dev/null}"
T send-keys -t w q
wait_dead step4

# 8. A token file others can read is refused before anything is sent.
chmod 644 "$WORK/token"
if "$BIN" ai watch --daemon "http://127.0.0.1:$PORT" --token-file "$WORK/token" --frames 1 2>"$WORK/err"; then
  fail "a world-readable token file was accepted"
fi
grep -q "readable by others" "$WORK/err" || fail "token mode error: $(cat "$WORK/err")"
# 9. Fixture GPUs through the real backends (fake NVML + AMD sysfs tree):
#    per-GPU title with temperature, power, utilisation and throttle, VRAM bar,
#    memory map, non-AI processes in their own section.
if [ -n "$FAKE_NVML" ] && [ -n "$GPU_FIXTURE" ]; then
  start "TERM=xterm-256color $BIN --proc-root $GPU_FIXTURE/proc --sys-root $GPU_FIXTURE/sys --nvml-library $FAKE_NVML ai watch --interval 0.5"
  wait_for "GPU0 NVIDIA GeForce RTX 4090  62C  250/450 W  util 37%  THROTTLED (thermal+power)"
  wait_for "10.0 GiB / 24.0 GiB   42%"
  wait_for "GPU3 AMD GPU [1002:744C]  65C  312/355 W  util 87%"
  wait_for "8.0 GiB / 24.0 GiB   33%"
  # The memory map under each GPU's bar (the fixture's processes are all
  # non-AI: "n" cells; GB10's used memory no process accounts for: "?"),
  # and the non-AI processes in their own section, not under AI workloads.
  wait_for "non-AI 8.0G | ? 15.4G"
  screen | grep -qE '^  map \[n{8}\?{16} +\]$' || fail "GB10 map bar: 8 GiB non-AI, 15.4 GiB unattributed"
  wait_for "AI workloads (0)"
  wait_for "Non-AI GPU processes (46)"
  screen | awk '/^AI workloads/{s=1} /^Non-AI GPU processes/{s=2} /other +pid 7000 +7000/{print s; exit}' |
    grep -qx 2 || fail "pid 7000 is not listed under Non-AI GPU processes"
  # The profile switch key writes the active profile to the state dir.
  T send-keys -t w p
  wait_for "profile batch_inference"
  grep -qx "batch_inference" "$XDG_STATE_HOME/ruvector-memopt/active_profile" ||
    fail "p did not persist the profile in $XDG_STATE_HOME/ruvector-memopt/active_profile"
  T send-keys -t w q
  wait_dead step5
else
  echo "watch_tmux: fixture GPU part skipped (no fake NVML build)"
fi

# 10. A real llama.cpp process (node-llama-cpp loading a tiny GGUF) appears
#     with its pid and model, and disappears when it exits.
if [ -n "$MAKE_TINY" ]; then
  "$MAKE_TINY" "$WORK/models" >/dev/null
  (cd "$HERE" && exec node load_model.mjs "$WORK/models/tiny-llama-gqa.gguf" >"$WORK/llama.out" 2>&1) &
  LLAMA_PID=$!
  for _ in $(seq 300); do grep -q ready "$WORK/llama.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$WORK/llama.out" || fail "node-llama-cpp did not load the model: $(cat "$WORK/llama.out")"
  start "TERM=xterm-256color COLUMNS=100 $BIN ai watch --interval 0.5"
  wait_for "llama.cpp tiny-llama-gqa.gguf"
  screen | grep -E "llama.cpp tiny-llama-gqa.gguf +$LLAMA_PID " >/dev/null || fail "row without pid $LLAMA_PID"
  kill "$LLAMA_PID"
  wait "$LLAMA_PID" 2>/dev/null || true
  wait_gone " $LLAMA_PID "
  LLAMA_PID=
  T send-keys -t w q
  wait_dead step6
else
  echo "watch_tmux: real llama.cpp part skipped (no make_tiny_models)"
fi
# 11. A llama-server router that asks for an API key, the key in its
#     environment (LLAMA_API_KEY, kept off the process list): the scan of a
#     fixture /proc finds it listening on the stand-in's port, its models
#     are read with the key, and the unload key sends the key too.
KEY="sk-watch-$$"
node "$HERE/keyed_router.mjs" "$HERE/../../fixtures/runtimes" "$KEY" "$WORK/router.log" \
  >"$WORK/router.out" 2>&1 &
ROUTER_PID=$!
for _ in $(seq 100); do grep -q LISTENING "$WORK/router.out" 2>/dev/null && break; sleep 0.1; done
RPORT=$(awk '/LISTENING/{print $2}' "$WORK/router.out")
[ -n "$RPORT" ] || fail "keyed router stand-in did not start: $(cat "$WORK/router.out")"
KP="$WORK/kproc"
mkdir -p "$KP/4242/fd" "$KP/net"
cp /proc/meminfo "$KP/meminfo"
U=$(id -u)
printf 'Name:\tllama-server\nState:\tS (sleeping)\nPid:\t4242\nPPid:\t1\nUid:\t%s\t%s\t%s\t%s\n' \
  "$U" "$U" "$U" "$U" >"$KP/4242/status"
printf 'VmSize:\t  204800 kB\nVmRSS:\t  102400 kB\nVmSwap:\t  0 kB\n' >>"$KP/4242/status"
printf 'llama-server\0--models-dir\0/models\0--port\0%s\0' "$RPORT" >"$KP/4242/cmdline"
printf 'HOME=/home/u\0LLAMA_API_KEY=%s\0' "$KEY" >"$KP/4242/environ"
printf '7ffd0000-7ffd1000 rw-p 00000000 00:00 0    [stack]\n' >"$KP/4242/maps"
ln -s /opt/llama/llama-server "$KP/4242/exe"
ln -s "socket:[777001]" "$KP/4242/fd/3"
TCP_HEADER='  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'
{
  echo "$TCP_HEADER"
  printf '   0: 0100007F:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777001 1 0000000000000000 100 0 0 10 0\n' "$RPORT"
} >"$KP/net/tcp"
echo "$TCP_HEADER" >"$KP/net/tcp6"
start "TERM=xterm-256color $BIN --proc-root $KP ai watch --interval 0.5"
wait_for ">llama.cpp ggml-org/gemma-3-4b-it-GGUF:Q4_K_M           4242"
wait_for " llama.cpp Qwen3-8B-Q4_K_M"
T send-keys -t w Down
wait_for ">llama.cpp Qwen3-8B-Q4_K_M"
T send-keys -t w u
wait_for "unload Qwen3-8B-Q4_K_M: requested"
wait_gone "Qwen3-8B-Q4_K_M  "
grep -qx 'POST /models/unload key {"model":"Qwen3-8B-Q4_K_M"}' "$WORK/router.log" ||
  fail "the unload did not carry the server's key: $(cat "$WORK/router.log")"
if grep -q ' nokey' "$WORK/router.log"; then
  fail "a request went without the key: $(grep ' nokey' "$WORK/router.log")"
fi
T send-keys -t w q
wait_dead step7
kill "$ROUTER_PID" 2>/dev/null || true
ROUTER_PID=
echo "watch_tmux: all checks passed"
