#!/usr/bin/env bash
# bench/seed_metrics.sh --json --quick end to end: every key issue 14 names
# is a measured number (none null), in its range.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(bash "$src/bench/seed_metrics.sh" --json --quick "$build")
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
keys = ["oom_prevented_percent", "wasted_actions_percent",
        "oom_prevented_percent_at_1_5x_delay", "overhead_percent",
        "kv_saved_percent", "preload_speedup", "vram_efficiency_percent"]
bad = [k for k in keys if not isinstance(d.get(k), (int, float))]
assert not bad, f"not measured: {bad}"
for k in ["oom_prevented_percent", "oom_prevented_percent_at_1_5x_delay",
          "wasted_actions_percent", "kv_saved_percent", "vram_efficiency_percent"]:
    assert 0 <= d[k] <= 100, (k, d[k])
assert d["oom_prevented_percent"] > 50, d["oom_prevented_percent"]
# The reported set is the fourth held-out one; its interval holds its figure.
assert d["simulator_set"]["seed"] == 20261226, d["simulator_set"]
assert d["third_held_out"]["seed"] == 20261219, d["third_held_out"]
lo, hi = d["third_held_out"]["oom_prevented_ci95_percent"]
assert 0 <= lo <= d["third_held_out"]["oom_prevented_percent"] <= hi <= 100, (lo, hi)
lo, hi = d["oom_prevented_ci95_percent"]
assert 0 <= lo <= d["oom_prevented_percent"] <= hi <= 100, (lo, hi)
for k in ["planner", "gateway", "profile"]:
    g = d["wasted_known_by"][k]
    assert 0 <= g["wasted_actions"] <= g["actions"], (k, g)
    lo, hi = g["wasted_actions_ci95_percent"]
    assert lo <= g["wasted_actions_percent"] <= hi, (k, g)
assert d["first_held_out"]["seed"] == 20261201, d["first_held_out"]
assert 0 <= d["first_held_out"]["oom_prevented_percent"] <= 100, d["first_held_out"]
assert d["kv_bytes_after"] < d["kv_bytes_before"], d
assert d["preload_speedup"] > 1, d["preload_speedup"]
assert d["vram_efficiency_percent"] > d["vram_efficiency_percent_without_policy"], d
assert len(d["overhead_pairs"]) >= 2, d["overhead_pairs"]
assert d["overhead_requests_per_arm"] == 4, d["overhead_requests_per_arm"]
lo, hi = d["overhead_ci95_percent"]
losses = [100 * (1 - p["with_tokens_per_s"] / p["without_tokens_per_s"]) for p in d["overhead_pairs"]]
assert min(losses) - 1e-9 <= lo <= d["overhead_percent"] <= hi <= max(losses) + 1e-9, (lo, hi, losses)
print("seed metrics:", {k: round(d[k], 2) for k in keys})
PY
