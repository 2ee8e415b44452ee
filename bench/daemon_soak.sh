#!/usr/bin/env bash
# Soak (issue 13; not in CI): the daemon under --apply on loopback for
# SOAK_SECONDS (default 1800) against replayed Ollama runtimes that answer,
# fail (500), hang (20 s), go down and come back, and move to a new port,
# while short-lived "ollama runner" processes come and go. Reports RSS and
# open fds after the first minute and at the end, the samples the daemon
# counted against the history rows it wrote (read back with sqlite3), the
# actions it counted against the ones recorded, and how long SIGTERM took.
#   bench/daemon_soak.sh BUILD/ruvector-memopt [SOAK_SECONDS]
set -euo pipefail
BIN=${1:?usage: daemon_soak.sh path/to/ruvector-memopt [seconds]}
SECONDS_TOTAL=${2:-${SOAK_SECONDS:-1800}}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIX="$ROOT/tests/fixtures/runtimes"
for tool in python3 sqlite3 curl; do
  command -v "$tool" >/dev/null || { echo "daemon_soak: $tool is needed" >&2; exit 1; }
done
W=$(mktemp -d /tmp/memopt_soak_XXXXXX)
cleanup() {
  [ -n "${SUP:-}" ] && kill -TERM "$SUP" 2>/dev/null || true
  [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

# The runtimes: a supervisor (python3) keeping three fixed-port Ollamas
# whose behaviour changes every 10-40 s, one that moves port every 30 s, and
# process churn.
cat >"$W/replay.py" <<'PY'
import http.server, json, os, random, signal, socket, socketserver, subprocess, sys, time
fix, ports, seed = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], int(sys.argv[3])
def serve(port, mode):
    ps, ver, tags = (open(os.path.join(fix, f), "rb").read() for f in ("ollama-ps.json", "ollama-version.json", "ollama-tags.json"))
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def reply(self):
            if mode == "hang": time.sleep(20)
            if mode == "fail":
                self.send_response(500); self.end_headers(); self.wfile.write(b'{"error":"boom"}'); return
            body = {"/api/ps": ps, "/api/version": ver, "/api/tags": tags}.get(self.path.split("?")[0], b'{"done":true}')
            self.send_response(200); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        def do_GET(self): self.reply()
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0") or 0); self.rfile.read(min(n, 1 << 20)); self.reply()
    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True; allow_reuse_address = True
        def handle_error(self, *a): pass  # a client that gave up mid-answer
    S(("127.0.0.1", port), H).serve_forever()
if len(sys.argv) > 4:  # child: one runtime
    serve(int(sys.argv[4]), sys.argv[5]); sys.exit(0)
random.seed(seed)
procs, churn = {}, []
def stop(*_):
    for p in list(procs.values()) + churn + ([mover] if mover else []): p.kill()
    sys.exit(0)
def start(port, mode):
    return subprocess.Popen([sys.executable, sys.argv[0], fix, sys.argv[2], str(seed), str(port), mode])
mover_port, mover, mover_at = 0, None, 0
signal.signal(signal.SIGTERM, stop)
next_change = {p: 0 for p in ports}
while True:
    now = time.time()
    for p in ports:
        if now >= next_change[p]:
            if p in procs: procs.pop(p).kill()
            mode = random.choice(["ok", "ok", "ok", "fail", "hang", "down"])
            if mode != "down": procs[p] = start(p, mode)
            next_change[p] = now + random.uniform(10, 40)
    if now >= mover_at:
        if mover: mover.kill()
        s = socket.socket(); s.bind(("127.0.0.1", 0)); mover_port = s.getsockname()[1]; s.close()
        mover, mover_at = start(mover_port, "ok"), now + 30
    if random.random() < 0.3:
        churn.append(subprocess.Popen(["bash", "-c", 'exec -a "ollama runner --model /tmp/soak.gguf --port 1" sleep %d' % random.randint(1, 15)]))
    churn = [c for c in churn if c.poll() is None]
    for p in list(procs):
        if procs[p].poll() is not None: procs.pop(p)
    time.sleep(1)
PY
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port); P3=$(free_port); API=$(free_port)
python3 "$W/replay.py" "$FIX" "$P1,$P2,$P3" 13 >"$W/replay.log" 2>&1 &
SUP=$!
"$BIN" daemon --apply --interval 1 --listen "127.0.0.1:$API" --state-dir "$W/state" --config "$W/config.toml" \
  --endpoint "ollama=http://127.0.0.1:$P1" --endpoint "ollama=http://127.0.0.1:$P2" \
  --endpoint "ollama=http://127.0.0.1:$P3" >"$W/daemon.log" 2>&1 &
DPID=$!
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DPID/status"; }
fds() { ls "/proc/$DPID/fd" | wc -l; }
metric() { curl -s --max-time 5 "http://127.0.0.1:$API/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
sleep 60
kill -0 "$DPID" || { echo "daemon_soak: the daemon exited; log:"; tail -20 "$W/daemon.log"; exit 1; }
RSS0=$(rss); FD0=$(fds)
sleep $((SECONDS_TOTAL > 60 ? SECONDS_TOTAL - 60 : 0))
kill -0 "$DPID" || { echo "daemon_soak: the daemon died; log:"; tail -20 "$W/daemon.log"; exit 1; }
RSS1=$(rss); FD1=$(fds)
SAMPLES=$(metric ruvector_daemon_samples_total)
ACTIONS=$(curl -s --max-time 5 "http://127.0.0.1:$API/metrics" | awk '/^ruvector_policy_actions_total/ {s += $2} END {print s + 0}')
T0=$(date +%s.%N); kill -TERM "$DPID"; wait "$DPID" || true; T1=$(date +%s.%N); DPID=""
DB="$W/state/history.db"
ROWS=$(sqlite3 "$DB" "SELECT count(*) FROM points p JOIN series s ON s.id = p.series
  WHERE s.name = 'ruvector_host_memory_available_bytes' AND p.res = 1")
SPAN=$(sqlite3 "$DB" "SELECT max(ts) - min(ts) + 1 FROM points WHERE res = 1")
RECORDED=$(sqlite3 "$DB" "SELECT count(*) FROM actions")
ERRS=$(grep -c "\[error\]" "$W/daemon.log" || true)
printf 'daemon soak: %s s, --apply, 3 flapping Ollamas + 1 moving + process churn\n' "$SECONDS_TOTAL"
printf '  RSS  %s kB after 1 min -> %s kB at the end\n' "$RSS0" "$RSS1"
printf '  fds  %s after 1 min -> %s at the end\n' "$FD0" "$FD1"
printf '  samples counted %s; history rows written for the host series %s (span %s s)\n' "$SAMPLES" "$ROWS" "$SPAN"
printf '  actions counted %s; recorded in history %s\n' "$ACTIONS" "$RECORDED"
printf '  SIGTERM to exit: %.2f s; error lines in the log: %s\n' "$(echo "$T1 - $T0" | bc)" "$ERRS"
rm -rf "$W"
