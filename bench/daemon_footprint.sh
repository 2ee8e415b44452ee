#!/usr/bin/env bash
# Daemon footprint: CPU share of one core and RSS of `ruvector-memopt daemon`
# at the default 1 s interval, no GPU, with about 300 processes on the
# machine (sleepers are started to make up the count).
# Usage: bench/daemon_footprint.sh <ruvector-memopt> [seconds=600]
set -euo pipefail
BIN=$1
SECS=${2:-600}
WORK=$(mktemp -d /tmp/memopt_footprint_XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
have=$(ls /proc | grep -c '^[0-9]')  # ls -d of a glob races with exiting processes
for _ in $(seq $((have < 300 ? 300 - have : 0))); do sleep 100000 & PIDS+=($!); done
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config
"$BIN" daemon --listen 127.0.0.1:0 >"$WORK/daemon.log" 2>&1 &
D=$!
PIDS+=($D)
sleep 3  # start-up (first full scan) is not steady state
TICK=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$D/stat; }
c0=$(cpu); t0=$(date +%s.%N)
sleep "$SECS"
c1=$(cpu); t1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' /proc/$D/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$D/status)
procs=$(ls /proc | grep -c '^[0-9]')  # not a glob: a process may exit mid-listing
python3 - "$c0" "$c1" "$t0" "$t1" "$TICK" "$rss" "$hwm" "$procs" "$SECS" <<'PY'
import sys
c0, c1, t0, t1, tick, rss, hwm, procs, secs = sys.argv[1:]
cpu = (int(c1) - int(c0)) / int(tick)
wall = float(t1) - float(t0)
print(f"daemon, 1 s interval, no GPU, {procs} processes, measured over {wall:.0f} s:")
print(f"  CPU: {100 * cpu / wall:.2f}% of one core ({cpu:.2f} s CPU)")
print(f"  RSS: {int(rss) / 1024:.1f} MiB at the end (peak {int(hwm) / 1024:.1f} MiB)")
PY
