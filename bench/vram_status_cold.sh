#!/usr/bin/env bash
# Cold-process cost of `ruvector-memopt vram status` (and --json): median,
# min and max wall time over N runs. Target: median under 10 ms with no GPU.
# Usage: bench/vram_status_cold.sh [BINARY] [RUNS]   (defaults: build/ruvector-memopt, 50)
set -euo pipefail
bin=${1:-build/ruvector-memopt}
runs=${2:-50}
[ -x "$bin" ] || { echo "vram_status_cold: $bin not built (cmake --build build --target ruvector-memopt)" >&2; exit 1; }

measure() {
  local label=$1; shift
  "$@" >/dev/null  # warm the page cache: "cold" means a new process, not a cold disk
  local times=()
  for ((i = 0; i < runs; i++)); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v n="$runs" '
    { v[NR] = $1 }
    END { med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
          printf "%-28s median %.2f ms  min %.2f ms  max %.2f ms  (%d runs)\n", label, med / 1000, v[1] / 1000, v[n] / 1000, n }'
}

measure "vram status" "$bin" vram status
measure "vram status --json" "$bin" --json vram status
measure "--version (process floor)" "$bin" --version
