#!/usr/bin/env bash
# Device check of the OOM forecaster on a real GPU (NVML), with the daemon
# running as users run it. A PyTorch process fills GPU 0 at a steady rate
# (1 GiB every 0.1 s) and stops 3 GiB short of full; meanwhile /metrics is
# read every 0.1 s. Reports, and checks:
#   - the daemon switched to its fast interval (0.25 s) while VRAM grew,
#     at least 3 s before the GPU would have been full;
#   - its forecast time to OOM against the moment the steady growth would
#     have filled the GPU (median and worst absolute error, seconds);
#   - samples per second while watching;
#   - the forecast goes within 2.5 s once the growth stops.
# Build the bundle here (scripts/device-check.sh --bundle DIR), run there:
#   scripts/device-forecast.sh DIR     # writes forecast.csv to $OUT if set
set -euo pipefail
dir=${1:-build/device}
out=${OUT:-$(mktemp -d)}
export LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
sd=$(mktemp -d)
"$dir/ruvector-memopt" daemon --state-dir "$sd" --listen 127.0.0.1:17879 --no-probe >"$out/forecast-daemon.log" 2>&1 &
dpid=$!
trap 'kill "$dpid" 2>/dev/null || true' EXIT
sleep 3
python3 - "$out" <<'PY'
import csv, statistics, sys, threading, time, urllib.request
import torch

out = sys.argv[1]
rows = []
stop = False


def poll():
    while not stop:
        t = time.monotonic()
        try:
            text = urllib.request.urlopen("http://127.0.0.1:17879/metrics", timeout=2).read().decode()
        except Exception:
            time.sleep(0.1)
            continue
        v = {"t": t, "used": None, "total": None, "forecast": None, "interval": None, "samples": None}
        for line in text.splitlines():
            if line.startswith("#") or " " not in line:
                continue
            name, value = line.rsplit(" ", 1)
            if name.startswith('ruvector_gpu_memory_used_bytes{gpu="0"'):
                v["used"] = float(value)
            elif name.startswith('ruvector_gpu_memory_total_bytes{gpu="0"'):
                v["total"] = float(value)
            elif name.startswith('ruvector_gpu_oom_forecast_seconds{gpu="0"'):
                v["forecast"] = float(value)
            elif name == "ruvector_daemon_sample_interval_seconds":
                v["interval"] = float(value)
            elif name == "ruvector_daemon_samples_total":
                v["samples"] = float(value)
        rows.append(v)
        time.sleep(max(0.0, 0.1 - (time.monotonic() - t)))


th = threading.Thread(target=poll)
th.start()
time.sleep(3)  # a flat baseline
free, total = torch.cuda.mem_get_info(0)
gib = 1 << 30
n = int((free - 3 * gib) // gib)
held = []
t_start = time.monotonic()
for i in range(n):
    held.append(torch.empty(gib, dtype=torch.uint8, device="cuda:0"))
    held[-1].fill_(1)
    torch.cuda.synchronize()
    time.sleep(max(0.0, t_start + 0.1 * (i + 1) - time.monotonic()))
t_end = time.monotonic()
rate = n * gib / (t_end - t_start)
time.sleep(3)
del held
torch.cuda.empty_cache()
time.sleep(2)
stop = True
th.join()

with open(f"{out}/forecast.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["t", "used", "total", "forecast", "interval", "samples"])
    w.writeheader()
    for r in rows:
        w.writerow({k: (round(r[k] - t_start, 3) if k == "t" else r[k]) for k in w.fieldnames})

# When the steady growth would have filled the GPU (NVML's total), had it
# gone on: the last reading of the ramp, extrapolated at the ramp's rate.
ramp = [r for r in rows if t_start <= r["t"] <= t_end and r["used"] is not None]
last = ramp[-1]
t_full = last["t"] + (last["total"] - last["used"]) / rate
watch = [r for r in ramp if r["interval"] is not None and r["interval"] < 1]
errs = [r["t"] + r["forecast"] - t_full for r in ramp if r["forecast"] is not None and r["t"] > t_start + 2]
fails = 0


def check(name, ok, detail):
    global fails
    print(("PASS " if ok else "FAIL ") + name + ": " + detail)
    fails += 0 if ok else 1


print(f"INFO ramp: {n} GiB in {t_end - t_start:.1f} s ({rate / gib:.1f} GiB/s), stopped 3 GiB short; "
      f"full would have been at +{t_full - t_start:.1f} s")
if watch:
    lead = t_full - watch[0]["t"]
    check("fast-sampling", lead >= 3, f"interval {watch[0]['interval']} s from +{watch[0]['t'] - t_start:.2f} s, "
          f"{lead:.1f} s before the GPU would have been full")
    w = [r for r in rows if r["interval"] is not None and r["interval"] < 1 and r["samples"] is not None]
    if len(w) >= 2 and w[-1]["t"] > w[0]["t"]:
        print(f"INFO samples while watching: {(w[-1]['samples'] - w[0]['samples']) / (w[-1]['t'] - w[0]['t']):.2f}/s")
else:
    check("fast-sampling", False, "the interval never went below 1 s")
if errs:
    a = sorted(abs(e) for e in errs)
    check("forecast", statistics.median(a) < 1.0,
          f"{len(errs)} forecasts during the ramp; |predicted - actual| time of full: median "
          f"{statistics.median(a):.2f} s, worst {a[-1]:.2f} s")
else:
    check("forecast", False, "no forecast during the ramp")
# Once the growth stops, "still growing" compares the last sample with one
# at least a second older: the forecast goes within that second plus a
# sample or two (and the poll's 0.1 s), and stays gone on the plateau.
hold = [r for r in rows if t_end < r["t"] < t_end + 3]
shown = [r["t"] - t_end for r in hold if r["forecast"] is not None]
lag = max(shown) if shown else 0.0
late = [r for r in hold if r["t"] > t_end + 2.5]
check("plateau", bool(late) and all(r["forecast"] is None for r in late),
      f"the forecast went {lag:.2f} s after the growth stopped, and stayed gone"
      if late and all(r["forecast"] is None for r in late) else f"forecast still shown {lag:.2f} s after the growth stopped")
sys.exit(1 if fails else 0)
PY
