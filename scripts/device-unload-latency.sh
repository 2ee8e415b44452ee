#!/usr/bin/env bash
# How long a GPU takes to give memory back, measured with NVML every 5 ms:
# the part of an unload that is the driver's, which the policy simulator's
# action delay (1 s for an unload) has to cover.
#   - exit: a process holding N GiB is sent SIGTERM (how Ollama stops a
#     runner it unloads); time until NVML shows the memory free;
#   - free: a process frees N GiB itself (del + torch.cuda.empty_cache(),
#     what ComfyUI's /free does); time until NVML shows it.
# Median of 3 runs each, at 8 and 32 GiB. Needs PyTorch and nvidia-ml-py.
#   scripts/device-unload-latency.sh    # writes unload-latency.txt to $OUT if set
set -euo pipefail
out=${OUT:-$(mktemp -d)}
python3 - <<'PY' | tee "$out/unload-latency.txt"
import os, signal, statistics, subprocess, sys, textwrap, time
import pynvml

pynvml.nvmlInit()
h = pynvml.nvmlDeviceGetHandleByIndex(0)
used = lambda: pynvml.nvmlDeviceGetMemoryInfo(h).used
GiB = 1 << 30

CHILD = textwrap.dedent("""
    import sys, time, torch
    n = int(sys.argv[1]); mode = sys.argv[2]
    x = torch.empty(n << 30, dtype=torch.uint8, device="cuda:0"); x.fill_(1); torch.cuda.synchronize()
    print("ready", flush=True)
    if mode == "free":
        sys.stdin.readline()
        t = time.monotonic(); del x; torch.cuda.empty_cache(); torch.cuda.synchronize()
        print(f"freed {time.monotonic() - t}", flush=True)
    time.sleep(600)
""")


def once(n, mode):
    base = used()
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(n), mode], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    while used() < base + n * GiB * 0.95:
        time.sleep(0.005)
    t0 = time.monotonic()
    if mode == "exit":
        p.send_signal(signal.SIGTERM)
    else:
        p.stdin.write("go\n"); p.stdin.flush()
    while used() > base + n * GiB * 0.25:  # 75 % back, as Ollama waits for
        if time.monotonic() - t0 > 30:
            raise SystemExit("memory not back within 30 s")
        time.sleep(0.005)
    dt = time.monotonic() - t0
    p.kill(); p.wait()
    while used() > base + (256 << 20):
        time.sleep(0.01)
    return dt


print(pynvml.nvmlDeviceGetName(h), "driver", pynvml.nvmlSystemGetDriverVersion())
for mode in ("exit", "free"):
    for n in (8, 32):
        t = sorted(once(n, mode) for _ in range(3))
        print(f"{mode:4} {n:2} GiB: median {statistics.median(t) * 1000:.0f} ms (min {t[0] * 1000:.0f}, max {t[-1] * 1000:.0f})")
PY
