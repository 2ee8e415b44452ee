#!/usr/bin/env bash
# Device check for the NVIDIA path of `vram status`, on a machine with an
# NVIDIA GPU, CUDA, PyTorch and nvidia-smi (no package registry needed).
#   1. our total/used per GPU vs `nvidia-smi --query-gpu` (within 1% of total)
#   2. a PyTorch process allocating 4 GiB: our per-process bytes vs
#      `nvidia-smi --query-compute-apps` (within 2%), and at least 4 GiB
#   3. cold `vram status` wall time with real NVML (median of 20)
#
# Build here, carry the bundle, run there:
#   scripts/device-check.sh --bundle build/device    # here: binary + its non-libc libraries
#   scripts/device-check.sh build/device             # there; writes to $OUT if set
set -euo pipefail

if [ "${1:-}" = "--bundle" ]; then
  dest=${2:?usage: device-check.sh --bundle DIR}
  bin=${3:-build/ruvector-memopt}
  mkdir -p "$dest/lib"
  cp "$bin" "$dest/ruvector-memopt"
  # Everything but glibc itself travels: the GPU machine has no libfmt,
  # libspdlog, ... and may have an older libstdc++.
  ldd "$bin" | awk '/=> \// { print $3 }' |
    grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$dest/lib/"; done
  echo "device-check: bundle in $dest ($(du -sh "$dest" | cut -f1))"
  exit 0
fi

dir=${1:-build/device}
out=${OUT:-$(mktemp -d)}
export LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bin="$dir/ruvector-memopt"
fails=0
check() {  # check NAME OK(0/1) DETAIL
  if [ "$2" = 1 ]; then echo "PASS $1: $3"; else echo "FAIL $1: $3"; fails=$((fails + 1)); fi
}

command -v nvidia-smi >/dev/null || { echo "device-check: nvidia-smi not found" >&2; exit 1; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
"$bin" --version

# 1. Device totals. nvidia-smi prints MiB; its memory.used matches NVML v2
#    `used` (reserved excluded), which is what we report.
"$bin" --json vram status >"$out/idle.json"
nvidia-smi --query-gpu=pci.bus_id,memory.total,memory.used --format=csv,noheader,nounits >"$out/smi-gpu.csv"
while IFS=, read -r bus total used; do
  res=$(python3 - "$out/idle.json" "$bus" "$total" "$used" <<'PY'
import json, sys
doc, bus, total, used = json.load(open(sys.argv[1])), sys.argv[2].strip().lower(), int(sys.argv[3]), int(sys.argv[4])
bus = bus[-12:]  # "00000000:41:00.0" -> "0000:41:00.0"
g = [g for g in doc["gpus"] if g["pci_bus_id"] == bus]
if not g:
    print(0, f"GPU {bus} missing from vram status"); sys.exit()
m = g[0]["memory"]
ours_t, ours_u = m["total_bytes"] / 2**20, m["used_bytes"] / 2**20
tol = 0.01 * total
ok = abs(ours_t - total) <= tol and abs(ours_u - used) <= tol
print(int(ok), f"{bus} total {ours_t:.0f}/{total} MiB used {ours_u:.0f}/{used} MiB (ours/nvidia-smi, tol {tol:.0f} MiB, source {m['source']})")
PY
)
  check "gpu-memory" "${res%% *}" "${res#* }"
done <"$out/smi-gpu.csv"

# 2. A process holding a known amount on GPU 0.
python3 - >"$out/torch.log" 2>&1 <<'PY' &
import sys, time, torch
x = torch.empty(4 << 30, dtype=torch.uint8, device="cuda:0")
x.fill_(1)
torch.cuda.synchronize()
print("ready", flush=True)
time.sleep(120)
PY
torch_pid=$!
trap 'kill "$torch_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q ready "$out/torch.log" && break; sleep 0.5; done
grep -q ready "$out/torch.log" || { cat "$out/torch.log"; echo "FAIL torch: no allocation within 60 s"; exit 1; }
"$bin" --json vram status >"$out/busy.json"
nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits >"$out/smi-apps.csv"
res=$(python3 - "$out/busy.json" "$out/smi-apps.csv" "$torch_pid" <<'PY'
import json, sys
doc, pid = json.load(open(sys.argv[1])), int(sys.argv[3])
smi = {int(p): int(m) for p, m in (l.split(",") for l in open(sys.argv[2]) if l.strip())}
ours = [p["used_bytes"] for g in doc["gpus"] for p in g["processes"] if p["pid"] == pid]
if not ours or ours[0] is None or pid not in smi:
    print(0, f"pid {pid}: ours {ours}, nvidia-smi {smi.get(pid)}"); sys.exit()
o = ours[0] / 2**20
ok = abs(o - smi[pid]) <= 0.02 * smi[pid] and o >= 4096
print(int(ok), f"pid {pid} ours {o:.0f} MiB, nvidia-smi {smi[pid]} MiB (4096 MiB allocated + CUDA context)")
PY
)
check "process-memory" "${res%% *}" "${res#* }"

# 4. The detector names the same process a PyTorch workload holding it.
"$bin" --json ai status --no-probe >"$out/ai-status.json"
res=$(python3 - "$out/ai-status.json" "$torch_pid" <<'PY'
import json, sys
doc, pid = json.load(open(sys.argv[1])), int(sys.argv[2])
w = [w for w in doc["workloads"] if pid in w["pids"]]
if not w:
    print(0, f"pid {pid} not among workloads {[x['runtime'] for x in doc['workloads']]}"); sys.exit()
w = w[0]
ok = w["runtime"] == "pytorch" and (w["vram_bytes"] or 0) >= 4 << 30
print(int(ok), f"pid {pid}: runtime {w['runtime']}, vram {(w['vram_bytes'] or 0) / 2**20:.0f} MiB")
PY
)
check "ai-status-workload" "${res%% *}" "${res#* }"

# 5. The daemon's /metrics carries the same GPU and workload bytes.
sd=$(mktemp -d)
"$bin" daemon --state-dir "$sd" --listen 127.0.0.1:17878 --no-probe --samples 6 >"$out/daemon.log" 2>&1 &
dpid=$!
sleep 4
res=$(python3 - "$out/idle.json" "$torch_pid" <<'PY'
import json, sys, urllib.request
pid = sys.argv[2]
try:
    text = urllib.request.urlopen("http://127.0.0.1:17878/metrics", timeout=5).read().decode()
except Exception as e:
    print(0, f"/metrics: {e}"); sys.exit()
open(sys.argv[1].replace("idle.json", "metrics.txt"), "w").write(text)
used = [l for l in text.splitlines() if l.startswith("ruvector_gpu_memory_used_bytes{")]
wl = [l for l in text.splitlines() if l.startswith("ruvector_workload_vram_bytes{") and "pytorch" in l]
ok = bool(used) and bool(wl) and float(wl[0].rsplit(" ", 1)[1]) >= 4 * 2**30
print(int(ok), f"{len(used)} GPU gauge(s): {used[:1]}; pytorch workload: {wl[:1]}")
PY
)
check "daemon-metrics" "${res%% *}" "${res#* }"
wait "$dpid" || true
kill "$torch_pid" 2>/dev/null || true

# 3. Cold process time with real NVML (nvmlInit included).
for _ in $(seq 1 20); do
  t0=$(date +%s%N); "$bin" vram status >/dev/null; t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
done | sort -n | awk '{ v[NR] = $1 } END { printf "INFO cold vram status with NVML: median %.1f ms, min %.1f, max %.1f (20 runs)\n", v[10] / 1000, v[1] / 1000, v[20] / 1000 }'

"$bin" vram status >"$out/status.txt"
head -40 "$out/status.txt"
echo "device-check: $fails failure(s); JSON and logs in $out"
[ "$fails" -eq 0 ]
