#!/usr/bin/env bash
# `ruvector-memopt tray` under a virtual X server (xvfb-run -a) against the
# views' replay daemon (tests/node/views/fake_daemon.mjs): the real GtkMenu
# built from the daemon's status (--dump-menu), read-only without a token, a
# clear error for a dead daemon, clicks on the GTK items reaching the daemon
# (--click), and the icon's main loop polling and quitting on SIGTERM. Every step is bounded by `timeout`.
# Usage: tray_xvfb.sh BIN VIEWS_DIR
set -u
BIN=$1
VIEWS=$2
WORK=$(mktemp -d)
DAEMON_PID=
cleanup() {
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# No default token from the real state dir.
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config HOME=$WORK
node "$VIEWS/fake_daemon.mjs" "$VIEWS/daemon_status.json" "$WORK/posts.ndjson" "$WORK/port" &
DAEMON_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || fail "replay daemon did not start"
URL=http://127.0.0.1:$(cat "$WORK/port")
printf 'test-token\n' > "$WORK/token"
chmod 600 "$WORK/token"

# 1. The menu with a token: every item, the active profile checked.
timeout 60 xvfb-run -a "$BIN" tray --daemon "$URL" --token-file "$WORK/token" --dump-menu \
  > "$WORK/menu.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "dump-menu failed"; }
diff -u "$(dirname "$0")/menu_from_daemon_status.txt" "$WORK/menu.txt" || fail "menu items differ"

# 2. No token: the same menu, actions and profiles greyed; JSON form.
timeout 60 xvfb-run -a "$BIN" --json tray --daemon "$URL" --dump-menu > "$WORK/menu.json" 2> "$WORK/err.txt" \
  || { cat "$WORK/err.txt"; fail "dump-menu --json failed"; }
node -e '
const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const by = (l) => j.items.find((i) => i.label === l);
const ok = j.schema === "ruvector-memopt.tray/1" && j.items.length === 22 &&
  by("Optimize AI Workload").sensitive === false && by("Local LLM").checked === true &&
  by("Local LLM").sensitive === false && by("Batch Inference").checked === false &&
  by("Open Dashboard").sensitive === true && by("Quit").sensitive === true;
process.exit(ok ? 0 : 1);' "$WORK/menu.json" || { cat "$WORK/menu.json"; fail "JSON menu without a token"; }

# 3. A dead daemon: exit 1 naming the URL.
timeout 60 xvfb-run -a "$BIN" tray --daemon http://127.0.0.1:1 --dump-menu > /dev/null 2> "$WORK/err.txt"
rc=$?
[ "$rc" = 1 ] || fail "dead daemon: exit $rc, want 1"
grep -q 'http://127.0.0.1:1/api/v1/status' "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "dead daemon: message"; }

# 4. Clicks through GTK's "activate" on the real items reach the daemon as
#    the web page's buttons send them, with the bearer token.
: > "$WORK/posts.ndjson"
timeout 60 xvfb-run -a "$BIN" tray --daemon "$URL" --token-file "$WORK/token" --dump-menu \
  --click "Optimize AI Workload" --click "Compact KV Cache" --click "Unload Inactive Models" \
  --click "Batch Inference" > /dev/null 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "clicks failed"; }
node -e '
const got = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const want = [
  ["/api/v1/optimize", {apply: true}],
  ["/api/v1/optimize", {apply: true, kinds: ["resize_context"]}],
  ["/api/v1/optimize", {apply: true, kinds: ["unload"]}],
  ["/api/v1/profile", {name: "batch_inference"}]];
const ok = got.length === want.length && want.every(([path, body], i) => got[i].path === path &&
  got[i].auth === "Bearer test-token" && JSON.stringify(JSON.parse(got[i].body)) === JSON.stringify(body));
process.exit(ok ? 0 : 1);' "$WORK/posts.ndjson" || { cat "$WORK/posts.ndjson"; fail "clicked requests"; }

# 5. A refused token: exit 1 with the daemon's 401 named.
printf 'wrong-token\n' > "$WORK/bad"
chmod 600 "$WORK/bad"
timeout 60 xvfb-run -a "$BIN" tray --daemon "$URL" --token-file "$WORK/bad" --dump-menu \
  --click "Optimize AI Workload" > /dev/null 2> "$WORK/err.txt"
rc=$?
[ "$rc" = 1 ] || fail "refused token: exit $rc, want 1"
grep -q '401 unauthorized' "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "refused token: message"; }

# 5b. The AI Mode toggle: a click sends POST /api/v1/mode {"actions":"paused"};
#     the daemon's status then says paused and the menu offers to resume.
: > "$WORK/posts.ndjson"
timeout 60 xvfb-run -a "$BIN" tray --daemon "$URL" --token-file "$WORK/token" --dump-menu \
  --click "AI Mode: on (click to pause actions)" > /dev/null 2> "$WORK/err.txt" ||
  { cat "$WORK/err.txt"; fail "AI Mode click failed"; }
grep -qF '"path":"/api/v1/mode","auth":"Bearer test-token","body":"{\"actions\":\"paused\"}"' "$WORK/posts.ndjson" ||
  { cat "$WORK/posts.ndjson"; fail "AI Mode click: request"; }
node -e 'fetch(process.argv[1] + "/api/v1/status").then((r) => r.json()).then((j) =>
  process.exit(j.actions === "paused" ? 0 : 1))' "$URL" || fail "the daemon's status does not say paused"
timeout 60 xvfb-run -a "$BIN" tray --daemon "$URL" --token-file "$WORK/token" --dump-menu \
  > "$WORK/menu.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "dump-menu after pause"; }
grep -qx "AI Mode: paused (click to resume actions)" "$WORK/menu.txt" || { cat "$WORK/menu.txt"; fail "menu after pause"; }

# 6. The icon itself: polls, then quits cleanly on SIGTERM (no tray host or
#    session bus here; AppIndicator only warns about that).
timeout 60 xvfb-run -a bash -c '"$0" tray --daemon "$1" --token-file "$2" --interval 0.5 & p=$!; sleep 2;
  kill -TERM $p; wait $p' "$BIN" "$URL" "$WORK/token" > /dev/null 2> "$WORK/err.txt"
rc=$?
[ "$rc" = 0 ] || { cat "$WORK/err.txt"; fail "tray main loop: exit $rc, want 0"; }

echo "tray: ok"
