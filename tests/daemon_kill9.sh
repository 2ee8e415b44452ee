#!/usr/bin/env bash
# kill -9 during heavy history writes (a sample every 20 ms), restart: the
# history opens, SQLite finds it intact, and the series runs on with no gap
# but the restart itself.
# Usage: daemon_kill9.sh <ruvector-memopt>
set -euo pipefail
BIN=$1
WORK=$(mktemp -d /tmp/memopt_kill9_XXXXXX)
DPID=
cleanup() { [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config
DB=$WORK/state/ruvector-memopt/history.db
for round in 1 2 3; do
  "$BIN" daemon --no-api --no-probe --detect-interval 3600 --interval 0.02 >>"$WORK/daemon.log" 2>&1 &
  DPID=$!
  sleep 2.5
  kill -9 "$DPID"
  wait "$DPID" 2>/dev/null || true
  DPID=
done
# Last run stops cleanly after a few samples.
"$BIN" daemon --no-api --no-probe --detect-interval 3600 --interval 0.02 --samples 20 >>"$WORK/daemon.log" 2>&1
python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "history is damaged"
ts = [r[0] for r in db.execute(
    "SELECT p.ts FROM points p JOIN series s ON s.id = p.series "
    "WHERE s.name = 'ruvector_host_memory_available_bytes' AND p.res = 1 ORDER BY p.ts")]
assert len(ts) >= 6, f"too few seconds recorded: {ts}"
gaps = [b - a for a, b in zip(ts, ts[1:])]
# Each restart costs well under a second here; allow 3 s on a loaded machine.
assert max(gaps) <= 3, f"gap of {max(gaps)} s in {ts}"
print(f"history intact: {len(ts)} seconds from {ts[0]} to {ts[-1]}, largest gap {max(gaps)} s")
PY
