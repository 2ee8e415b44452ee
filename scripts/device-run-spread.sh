#!/usr/bin/env bash
# Device recording: how much runs of the same program differ in VRAM, the
# figure the simulator guesses (sim::kRunSpread, +/- 3 %) and on which the
# waste for profile-known loads depends (README: "How much of the profile
# waste is the runs' spread"). Needs an NVIDIA GPU, nvidia-smi and PyTorch;
# not our binary. Three PyTorch programs, each run RUNS times (default 6) in
# a fresh process:
#   fixed   a transformer trained 20 steps on batches of one shape;
#   varlen  the same on batches whose length each step draws (a seed per
#           run: dynamic padding, as text training does);
#   swap    a workflow that loads a 2 GiB "checkpoint", computes, frees it,
#           loads a 3 GiB one (ComfyUI's node-by-node models).
# The process's VRAM is read from nvidia-smi every 0.1 s, as NVML reports it
# to the daemon. Writes to $OUT (or a temporary folder):
#   run-spread.csv   program,run,seconds,bytes   (the traces)
#   run-spread.json  per program: each run's peak, and max/min - 1
# Run there:  RUNS=6 scripts/device-run-spread.sh
# It was written on 2026-12-05 without a device lent and has not run yet.
set -euo pipefail
out=${OUT:-$(mktemp -d)}
runs=${RUNS:-6}
case "$runs" in '' | *[!0-9]*) echo "device-run-spread: RUNS must be a number" >&2; exit 2 ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/program.py" <<'PY'
import random, sys, time
import torch

kind, run = sys.argv[1], int(sys.argv[2])
dev = "cuda:0"
torch.manual_seed(0)
if kind in ("fixed", "varlen"):
    layer = torch.nn.TransformerEncoderLayer(1024, 16, 4096, batch_first=True)
    model = torch.nn.TransformerEncoder(layer, 8).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    rng = random.Random(run)
    for step in range(20):
        length = 512 if kind == "fixed" else rng.randint(128, 1024)
        x = torch.randn(16, length, 1024, device=dev)
        loss = model(x).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        torch.cuda.synchronize()
        time.sleep(0.1)
elif kind == "swap":
    a = torch.empty(2 << 30, dtype=torch.uint8, device=dev).fill_(1)
    w = torch.randn(8192, 8192, device=dev)
    for _ in range(10):
        w = torch.tanh(w @ w.T / 8192)
    torch.cuda.synchronize()
    time.sleep(1)
    del a
    b = torch.empty(3 << 30, dtype=torch.uint8, device=dev).fill_(1)
    torch.cuda.synchronize()
    time.sleep(1)
    del b
else:
    sys.exit("unknown program " + kind)
print(torch.cuda.max_memory_reserved(0))
PY

cat >"$work/record.py" <<'PY'
import csv, json, statistics, subprocess, sys, threading, time

out, runs, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows, summary = [], {}


def vram_of(pid):
    text = subprocess.run(
        ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, timeout=5).stdout
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0] == str(pid) and parts[1].isdigit():
            return int(parts[1]) << 20  # MiB
    return 0


for kind in ("fixed", "varlen", "swap"):
    peaks, reserved = [], []
    for run in range(runs):
        proc = subprocess.Popen([sys.executable, script, kind, str(run)], stdout=subprocess.PIPE,
                                text=True)
        start, peak = time.monotonic(), 0
        while proc.poll() is None:
            b = vram_of(proc.pid)
            peak = max(peak, b)
            rows.append((kind, run, round(time.monotonic() - start, 2), b))
            time.sleep(0.1)
        if proc.returncode != 0:
            sys.exit("device-run-spread: %s run %d failed (exit %d)" % (kind, run, proc.returncode))
        peaks.append(peak)
        reserved.append(int(proc.stdout.read().strip() or 0))
    lo, hi = min(peaks), max(peaks)
    summary[kind] = {"peaks_bytes": peaks, "torch_max_reserved_bytes": reserved,
                     "spread_max_over_min_minus_1": (hi / lo - 1) if lo else None,
                     "max_over_median": hi / statistics.median(peaks) if lo else None}
    print("%-7s peaks (MiB): %s  spread %.2f %%" % (
        kind, " ".join(str(p >> 20) for p in peaks), 100 * (hi / lo - 1) if lo else float("nan")))

with open(out + "/run-spread.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["program", "run", "seconds", "bytes"])
    w.writerows(rows)
with open(out + "/run-spread.json", "w") as f:
    json.dump(summary, f, indent=1)
PY

python3 "$work/record.py" "$out" "$runs" "$work/program.py"
echo "device-run-spread: traces and summary in $out"
