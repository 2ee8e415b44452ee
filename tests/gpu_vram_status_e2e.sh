#!/usr/bin/env bash
# End to end: `ruvector-memopt vram status` against the AMD fixture tree and
# the fake NVML library; checks the JSON document and the human output.
# Usage: gpu_vram_status_e2e.sh BINARY FIXTURE_DIR FAKE_NVML
set -euo pipefail
bin=$1 fx=$2 nvml=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --json --proc-root "$fx/amd/proc" --sys-root "$fx/amd/sys" --nvml-library "$nvml" \
  vram status >"$tmp/out.json"
python3 - "$tmp/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "ruvector-memopt.vram-status/1", d["schema"]
g = d["gpus"]
assert [x["name"] for x in g] == ["NVIDIA GeForce RTX 4090", "NVIDIA A100-SXM4-80GB",
                                  "NVIDIA GB10", "AMD GPU [1002:744C]"], [x["name"] for x in g]
assert [x["index"] for x in g] == [0, 1, 2, 3]
n0 = g[0]
assert n0["memory"]["total_bytes"] == 24 << 30 and n0["memory"]["used_bytes"] == 10 << 30
assert n0["memory"]["reserved_bytes"] == 300 << 20 and n0["memory"]["source"] == "nvml_v2"
assert n0["numa_node"] == 1 and n0["throttle"]["power"] is True
p = n0["processes"]
assert len(p) == 41 and p[0]["pid"] == 1039 and p[0]["used_bytes"] == 40 * 64 << 20
assert [x["used_bytes"] for x in p] == sorted([x["used_bytes"] for x in p], reverse=True)
xorg = [x for x in p if x["pid"] == 2000][0]
assert xorg["name"] == "Xorg" and xorg["kind"] == "graphics"
a100 = g[1]
assert a100["mig_enabled"] is True and a100["power_draw_watts"] is None
assert "NOT_SUPPORTED" in a100["unavailable"]["power_draw_watts"]
assert [m["gpu_instance_id"] for m in a100["mig_instances"]] == [1, 2]
assert a100["mig_instances"][0]["processes"][0]["pid"] == 7000
assert a100["processes"][0]["used_bytes"] == 9 << 30
gb10 = g[2]
assert gb10["integrated"] is True and gb10["memory"]["source"] == "host_meminfo"
assert [x["used_bytes"] for x in gb10["processes"]] == [8 << 30, None]
amd = g[3]
assert amd["backend_index"] == 1 and amd["index"] == 3
assert amd["memory"]["used_bytes"] == 8589934592 and amd["temperature_c"] == 65.0
assert [(x["pid"], x["name"]) for x in amd["processes"]] == [(4242, "llama-server"), (4700, "python3"),
                                                            (4300, "gnome-shell")]
assert any("NVML device 3" in n["message"] and n["warning"] for n in d["notes"])
h = d["host"]
assert h["memory_total_bytes"] == 65536000 * 1024 and h["swap_total_bytes"] == 8388608 * 1024
assert len(h["numa_nodes"]) == 2 and h["pressure"]["some_avg10"] == 1.5
PY

"$bin" --proc-root "$fx/amd/proc" --sys-root "$fx/amd/sys" --nvml-library "$nvml" vram status >"$tmp/out.txt"
grep -q "GPU 0  NVIDIA GeForce RTX 4090" "$tmp/out.txt"
grep -q "Throttling: thermal, power cap" "$tmp/out.txt"
grep -q "MIG mode enabled, 2 instance(s)" "$tmp/out.txt"
grep -q "GI 1 CI 0  9.0 GiB / 40.0 GiB used" "$tmp/out.txt"
grep -q "warning: NVML device 3 skipped" "$tmp/out.txt"
grep -qE "^ +4242  llama-server +compute +6.0 GiB$" "$tmp/out.txt"
grep -q "^Host memory" "$tmp/out.txt"
awk 'length > 80 { print "line over 80 columns: " $0; bad=1 } END { exit bad }' "$tmp/out.txt"

# No GPU: says so, still shows host memory, exit 0.
"$bin" --proc-root "$fx/none/proc" --sys-root "$fx/none/sys" --nvml-library /nonexistent/libnvidia-ml.so.1 \
  vram status >"$tmp/none.txt"
grep -q "^No GPU found" "$tmp/none.txt"
grep -q "Swap  none" "$tmp/none.txt"

# Unreadable procfs: exit 1 with a message naming the file.
set +e
"$bin" --proc-root /nonexistent/proc --sys-root "$fx/none/sys" --nvml-library /nonexistent/x.so \
  vram status >/dev/null 2>"$tmp/err.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "expected exit 1, got $rc"; exit 1; }
grep -q "/nonexistent/proc/meminfo" "$tmp/err.txt"
echo "gpu_vram_status_e2e: ok"
