#!/usr/bin/env bash
# Speed of `ai detect` (a full scan: status, cmdline, exe, cwd, cgroup, maps
# and every fd of every process) against `ps -eo pid,comm,rss` on the same
# machine in the same run, with N extra idle processes, and the cold-process
# median of `ai status`. Targets (issue 5): detect <= 2x ps; status < 50 ms.
# Usage: bench/detect_vs_ps.sh [build/ruvector-memopt] [idle processes=1000] [runs=21]
set -euo pipefail
BIN="${1:-build/ruvector-memopt}"
IDLE="${2:-1000}"
RUNS="${3:-21}"
[ -x "$BIN" ] || { echo "detect_vs_ps: $BIN not found; build it first (scripts/build.sh)" >&2; exit 1; }

status_ms() {
  python3 - "$BIN" "$RUNS" <<'PY'
import statistics, subprocess, sys, time
binary, runs = sys.argv[1], int(sys.argv[2])
t = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run([binary, "ai", "status"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t.append((time.perf_counter() - t0) * 1000)
print(f"{statistics.median(t):.1f}")
PY
}
echo "ai status cold median, no extra processes: $(status_ms) ms  (target < 50; $(ls -d /proc/[0-9]* | wc -l) processes)"

pids=()
cleanup() {
  # Only the idle processes this script started, by pid.
  if [ "${#pids[@]}" -gt 0 ]; then kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; fi
}
trap cleanup EXIT
for ((i = 0; i < IDLE; i++)); do
  sleep 3600 &
  pids+=("$!")
done
sleep 1  # let them all exec

python3 - "$BIN" "$RUNS" <<'PY'
import statistics, subprocess, sys, time
binary, runs = sys.argv[1], int(sys.argv[2])
def median_ms(cmd):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)
procs = sum(1 for _ in __import__("os").scandir("/proc") if _.name.isdigit())
# Interleave to share the machine's noise: ps, detect, ps, detect...
ps = median_ms(["ps", "-eo", "pid,comm,rss"])
det = median_ms([binary, "--json", "ai", "detect", "--no-probe", "--no-runtimes"])
ps2 = median_ms(["ps", "-eo", "pid,comm,rss"])
det2 = median_ms([binary, "--json", "ai", "detect", "--no-probe", "--no-runtimes"])
status = median_ms([binary, "ai", "status"])
ps_m, det_m = (ps + ps2) / 2, (det + det2) / 2
print(f"processes in /proc:            {procs}")
print(f"ps -eo pid,comm,rss median:    {ps_m:7.1f} ms")
print(f"ai detect (full scan) median:  {det_m:7.1f} ms")
print(f"ratio detect / ps:             {det_m / ps_m:7.2f}  (target <= 2)")
print(f"ai status cold median:         {status:7.1f} ms  (with the idle processes)")
PY
