#!/usr/bin/env bash
# daemon_e2e.sh WIN_BUILD_DIR SOURCE_DIR: the daemon, the tray and autostart
# of ruvector-memopt.exe under Wine (CTest windows_daemon). Talks to them from
# the Linux side over loopback, as a browser or Prometheus would.
#  1. `daemon` (default state dir: %LOCALAPPDATA%\ruvector-memopt) answers
#     /healthz, /metrics (valid for promtool, host memory as the Windows
#     collector reads it) and /api/v1/status; its API token file is 64 hex
#     characters and private; a change without the token is refused (401), with
#     it accepted; the history is a SQLite database.
#  2. `--allow-remote` with a certificate is refused: no TLS in this build.
#  3. The tray (ruvector-memopt-tray.exe, Win32 menus): the menu built from the
#     views' replay daemon is the Linux GTK tray's, item for item; clicks
#     reach that daemon with the token; against the real daemon the actions
#     are enabled with its own token file.
#  4. `autostart on|off` writes and removes this user's Run value (read back
#     with Wine's reg.exe), and the tray started with --start-daemon, as the
#     Run value does at logon, starts a daemon that then answers and reads
#     the token that daemon created.
set -euo pipefail
win="$(cd "$1" && pwd)"
src="$(cd "$2" && pwd)"
here="$src/tests/windows"
exe="$win/ruvector-memopt.exe"
tray="$win/ruvector-memopt-tray.exe"
prefix="$win/wineprefix"
run() { "$here/wine_run.sh" "$prefix" "$@"; }
fail() {
  echo "windows_daemon: FAILED: $*" >&2
  exit 1
}
for f in "$exe" "$tray"; do
  [ -e "$f" ] || fail "$f is missing (scripts/build-windows.sh builds it)"
done
for t in curl node promtool python3; do
  command -v "$t" >/dev/null || fail "$t is missing (scripts/setup.sh installs it)"
done
out="$(mktemp -d)"
pids=()
port=none
port2=none
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Wine processes by their Windows command line (what /proc shows for them).
  for pat in "ruvector-memopt.exe daemon --listen 127.0.0.1:$port " \
    "ruvector-memopt.exe daemon --listen 127.0.0.1:$port2" \
    "ruvector-memopt-tray.exe --json --start-daemon --daemon http://127.0.0.1:$port2"; do
    pkill -KILL -f "$pat" 2>/dev/null || true
  done
  sleep 0.3
  rm -rf "$out"
}
trap cleanup EXIT
# Ends a Wine process (the Linux pid of a Windows program) and waits until it is gone.
stop_wine_process() {
  [ -n "$1" ] || return 0
  kill -KILL "$1" 2>/dev/null || true
  { wait "$1"; } 2>/dev/null || true  # this shell's child: reaped without a "Killed" line
  # Gone, or a zombie its parent has not reaped yet (its ports and files are closed).
  for _ in $(seq 100); do
    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  fail "process $1 did not end"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {  # URL SECONDS
  for _ in $(seq $(($2 * 5))); do
    curl -fsS -m 2 "$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# The default state dir of the Wine user, seen from Linux.
user_dir="$(ls -d "$prefix"/drive_c/users/*/AppData/Local 2>/dev/null | grep -v '/Public/' | head -1)"
[ -n "$user_dir" ] || { run "$exe" --version >/dev/null; user_dir="$(ls -d "$prefix"/drive_c/users/*/AppData/Local | grep -v '/Public/' | head -1)"; }
state="$user_dir/ruvector-memopt"
rm -rf "$state"

# 1. The daemon.
port="$(free_port)"
url="http://127.0.0.1:$port"
# Not through run(): $! is then the Wine process itself (wine_run.sh execs it).
"$here/wine_run.sh" "$prefix" "$exe" daemon --listen "127.0.0.1:$port" --no-probe --interval 0.5 \
  >"$out/daemon.log" 2>&1 &
daemon_pid=$!
pids+=($daemon_pid)
wait_up "$url" 90 || { cat "$out/daemon.log"; fail "the daemon did not answer /healthz on $url"; }
echo "daemon: answers on $url"
for _ in $(seq 50); do
  curl -fsS "$url/metrics" >"$out/metrics.txt" && grep -q '^ruvector_daemon_samples_total [1-9]' "$out/metrics.txt" && break
  sleep 0.2
done
promtool check metrics <"$out/metrics.txt" >"$out/promtool.txt" 2>&1 || true
if grep -qi 'error' "$out/promtool.txt"; then cat "$out/promtool.txt"; fail "/metrics is not valid exposition text"; fi
total="$(awk '/^ruvector_host_memory_total_bytes /{print $2}' "$out/metrics.txt")"
avail="$(awk '/^ruvector_host_memory_available_bytes /{print $2}' "$out/metrics.txt")"
samples="$(awk '/^ruvector_daemon_samples_total /{print $2}' "$out/metrics.txt")"
python3 - "$total" "$avail" "$samples" <<'EOF' || fail "/metrics host memory: total=$total available=$avail samples=$samples"
import sys
total, avail, samples = (float(x or 0) for x in sys.argv[1:])
ok = total > 2**30 and 0 < avail <= total and samples >= 1
print(f"metrics: host memory {total/2**30:.1f} GiB, {avail/2**30:.1f} GiB available, {samples:.0f} samples; promtool: ok")
sys.exit(0 if ok else 1)
EOF
curl -fsS "$url/api/v1/status" >"$out/status.json" || fail "GET /api/v1/status"
python3 - "$out/status.json" "$total" <<'EOF' || fail "status document"
import json, sys
doc = json.load(open(sys.argv[1]))
total = float(sys.argv[2])
ram = doc.get("host", {}).get("memory", {}) or doc.get("memory", {})
text = json.dumps(doc)
ok = doc.get("schema", "").startswith("ruvector-memopt.status/") and str(int(total)) in text
print(f"status: schema {doc.get('schema')}, host memory total {int(total)} B in the document: {ok}")
sys.exit(0 if ok else 1)
EOF
token_file="$state/api_token"
[ -f "$token_file" ] || fail "no token file at $token_file (the state dir under %LOCALAPPDATA%)"
token="$(tr -d '\r\n' <"$token_file")"
[[ "$token" =~ ^[0-9a-f]{64}$ ]] || fail "token file holds '$token', not 64 hex characters"
echo "token: $token_file holds 64 hex characters"
code="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"actions":"paused"}' "$url/api/v1/mode")"
[ "$code" = 401 ] || fail "POST /api/v1/mode without the token: HTTP $code, want 401"
code="$(curl -s -o "$out/mode.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $token" -d '{"actions":"paused"}' "$url/api/v1/mode")"
[ "$code" = 200 ] || { cat "$out/mode.json"; fail "POST /api/v1/mode with the token: HTTP $code"; }
curl -fsS "$url/api/v1/status" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("actions")=="paused" else 1)' ||
  fail "status does not say actions paused after POST /api/v1/mode"
echo "api: change without token 401, with token 200, status says paused"
head -c 16 "$state/history.db" | grep -q 'SQLite format 3' || fail "history.db is not a SQLite database"
echo "history: $state/history.db is a SQLite database ($(stat -c %s "$state/history.db") bytes)"

# 2. Off loopback needs TLS, which this build does not have.
printf 'x' >"$out/cert.pem"
if run "$exe" daemon --listen "0.0.0.0:$(free_port)" --allow-remote --tls-cert 'Z:'"$out/cert.pem" \
  --tls-key 'Z:'"$out/cert.pem" --samples 1 >"$out/remote.log" 2>&1; then
  fail "daemon --allow-remote started without TLS"
fi
grep -q 'no TLS' "$out/remote.log" || { cat "$out/remote.log"; fail "--allow-remote: message"; }
echo "remote: refused ($(grep -o 'this Windows build has no TLS[^;]*' "$out/remote.log" | head -1))"

# 3. The tray. Its menu from the views' replay daemon, as the GTK tray's test wants it.
views="$src/tests/node/views"
node "$views/fake_daemon.mjs" "$views/daemon_status.json" "$out/posts.ndjson" "$out/fport" "$token" &
pids+=($!)
for _ in $(seq 100); do [ -s "$out/fport" ] && break; sleep 0.1; done
[ -s "$out/fport" ] || fail "replay daemon did not start"
furl="http://127.0.0.1:$(cat "$out/fport")"
run "$exe" tray --daemon "$furl" --token-file "$token_file" --dump-menu >"$out/menu.txt" 2>"$out/menu.err" ||
  { cat "$out/menu.err"; fail "tray --dump-menu"; }
tr -d '\r' <"$out/menu.txt" >"$out/menu.lf"
want="$src/tests/tray/menu_from_daemon_status.txt"  # what tests/tray/tray_xvfb.sh wants of GTK
diff -u "$want" "$out/menu.lf" || fail "the Win32 menu differs from the GTK tray's"
echo "tray: the Win32 menu read back has the GTK tray's $(wc -l <"$want") items"
: >"$out/posts.ndjson"
run "$exe" tray --daemon "$furl" --token-file "$token_file" --dump-menu \
  --click "Compact KV Cache" --click "Batch Inference" >/dev/null 2>"$out/click.err" ||
  { cat "$out/click.err"; fail "tray clicks"; }
node -e '
const got = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const want = [["/api/v1/optimize", {apply: true, kinds: ["resize_context"]}],
              ["/api/v1/profile", {name: "batch_inference"}]];
const ok = got.length === want.length && want.every(([path, body], i) => got[i].path === path &&
  got[i].auth === "Bearer " + process.argv[2] && JSON.stringify(JSON.parse(got[i].body)) === JSON.stringify(body));
process.exit(ok ? 0 : 1);' "$out/posts.ndjson" "$token" || { cat "$out/posts.ndjson"; fail "clicked requests"; }
echo "tray: clicks reached the daemon with the token"
# Against the real daemon, with its default token file found by the tray.
run "$exe" --json tray --daemon "$url" --dump-menu >"$out/real.json" 2>"$out/real.err" ||
  { cat "$out/real.err"; fail "tray --dump-menu on the real daemon"; }
python3 - "$out/real.json" <<'EOF' || fail "tray menu on the real daemon"
import json, sys
doc = json.load(open(sys.argv[1]))
items = {i.get("label"): i for i in doc["items"]}
ok = (doc["schema"] == "ruvector-memopt.tray/1" and items["Optimize AI Workload"]["sensitive"]
      and items["Quit"]["sensitive"] and "AI Mode: paused (click to resume actions)" in items
      and doc["items"][0]["label"].startswith("Memory "))
print(f"tray: real daemon menu '{doc['items'][0]['label']}', actions enabled: {ok}")
sys.exit(0 if ok else 1)
EOF

# 4. Autostart: this user's Run value, and what it runs.
runkey='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
# In clean-clone runs (a prefix made minutes before) a Wine program of this
# step has twice printed nothing at all and exited non-zero: `reg query`
# right after `autostart on`, and `autostart off` (never here, in many runs).
# Both commands are idempotent, so a silent failure is retried (up to 3
# tries, each logged with its exit status); one that prints anything is
# judged on what it printed. OUT ERR CMD...: stdout and stderr to OUT, ERR.
run_idempotent() {
  local o=$1 e=$2 i rc=0
  shift 2
  for i in 1 2 3; do
    rc=0
    run "$@" >"$o" 2>"$e" || rc=$?
    [ "$rc" = 0 ] && return 0
    { [ -s "$o" ] || [ -s "$e" ]; } && return "$rc"
    echo "wine: '$*' exited $rc and printed nothing (try $i of 3)" >&2
    sleep 1
  done
  return "$rc"
}
run_idempotent "$out/auto.json" "$out/auto.err" "$exe" --json autostart on ||
  fail "autostart on: $(head -c 300 "$out/auto.err")"
python3 - "$out/auto.json" <<'EOF' || fail "autostart on --json"
import json, sys
doc = json.load(open(sys.argv[1]))
ok = (doc["schema"] == "ruvector-memopt.autostart/1" and doc["enabled"]
      and "ruvector-memopt-tray.exe\" --start-daemon --daemon http://127.0.0.1:7878" in doc["command"])
print(f"autostart: on, runs {doc['command']}")
sys.exit(0 if ok else 1)
EOF
# The Run value as reg sees it, judged by what reg prints (so a reg that
# does not answer is never read as "the value is gone"). 0: the value names
# the tray; 1: reg says there is no such value; 2: neither.
run_value() {
  run_idempotent "$out/reg.txt" "$out/reg.err" reg query "$runkey" /v ruvector-memopt || true
  cat "$out/reg.err" >>"$out/reg.txt"
  grep -q 'ruvector-memopt-tray.exe' "$out/reg.txt" && return 0
  grep -q 'Unable to find' "$out/reg.txt" && return 1
  return 2
}
rc=0; run_value || rc=$?
[ "$rc" = 0 ] || { cat "$out/reg.txt"; fail "the Run value after autostart on (reg query: $rc)"; }
run_idempotent "$out/off.txt" "$out/off.err" "$exe" autostart off ||
  fail "autostart off: $(head -c 300 "$out/off.err")"
rc=0; run_value || rc=$?
[ "$rc" = 0 ] && fail "the Run value is still there after autostart off"
[ "$rc" = 1 ] || { cat "$out/reg.txt"; fail "reg query after autostart off gave no answer"; }
echo "autostart: the Run value is written (reg query) and removed"
# What the Run value does at a first logon: the tray with --start-daemon, no
# daemon up and no token yet. The tray starts the daemon (no console window),
# waits until it answers and has written its token, and reads it: its actions
# are enabled. Here through --dump-menu, so no display is needed; the daemon
# it started outlives it, as at logon.
# SIGKILL, not SIGTERM: the whole Wine process ends at once, so the history
# database is free for the next daemon.
stop_wine_process "$daemon_pid"
curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 && fail "the first daemon did not stop"
port2="$(free_port)"
url2="http://127.0.0.1:$port2"
rm -f "$token_file"
run "$tray" --json --start-daemon --daemon "$url2" --dump-menu >"$out/first.json" 2>"$out/first.err" ||
  { cat "$out/first.err"; fail "tray --start-daemon --dump-menu"; }
if ! wait_up "$url2" 30; then
  cat "$out/first.err"
  # Why: the daemon as the tray starts it, in the foreground for a moment.
  timeout 20 "$here/wine_run.sh" "$prefix" "$exe" daemon --listen "127.0.0.1:$port2" --samples 2 2>&1 | tail -20 || true
  ps -eo pid,args | grep -i 'ruvector-memopt' | grep -v grep || true
  fail "the tray with --start-daemon did not start a daemon on $url2"
fi
echo "autostart: the tray with --start-daemon started a daemon answering on $url2"
python3 - "$out/first.json" "$token_file" <<'EOF' || { cat "$out/first.err"; fail "the tray at a first logon"; }
import json, os, sys
doc = json.load(open(sys.argv[1]))
items = {i.get("label"): i for i in doc["items"]}
ok = items["Optimize AI Workload"]["sensitive"] and os.path.exists(sys.argv[2])
print(f"autostart: at a first logon the tray waits for the new token: actions enabled {ok}")
sys.exit(0 if ok else 1)
EOF
echo "windows_daemon: all checks passed"
