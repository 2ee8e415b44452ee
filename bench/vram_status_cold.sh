#!/usr/bin/env bash
# Cold-process cost of `ruvector-memopt vram status` (and --json): median,
# min and max wall time over N runs, and the median CPU time (user + sys),
# which stays meaningful on a loaded machine. Target: median under 10 ms with
# no GPU. "--version" is the floor: process start and dynamic linking only.
# Usage: bench/vram_status_cold.sh [BINARY] [RUNS]   (defaults: build/ruvector-memopt, 50)
set -euo pipefail
bin=${1:-build/ruvector-memopt}
runs=${2:-50}
[ -x "$bin" ] || { echo "vram_status_cold: $bin not built (cmake --build build --target ruvector-memopt)" >&2; exit 1; }

measure() {
  local label=$1; shift
  "$@" >/dev/null  # warm the page cache: "cold" means a new process, not a cold disk
  local out; out=$(mktemp)
  local TIMEFORMAT='%3R %3U %3S'
  for ((i = 0; i < runs; i++)); do
    { time "$@" >/dev/null; } 2>>"$out"
  done
  # median / min / max of one column (milliseconds), plain awk + sort.
  stats() { sort -n | awk '{ v[NR] = $1 } END { n = NR; m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
                                              printf "%.1f %.1f %.1f\n", m, v[1], v[n] }'; }
  read -r mw lw hw < <(awk '{ print $1 * 1000 }' "$out" | stats)
  read -r mc _ _ < <(awk '{ print ($2 + $3) * 1000 }' "$out" | stats)
  printf '%-22s wall median %s ms (min %s, max %s)  cpu median %s ms  (%d runs)\n' \
    "$label" "$mw" "$lw" "$hw" "$mc" "$runs"
  rm -f "$out"
}

measure "vram status" "$bin" vram status
measure "vram status --json" "$bin" --json vram status
measure "--version (floor)" "$bin" --version
