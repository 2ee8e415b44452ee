#!/usr/bin/env bash
# Same process, same numbers, everywhere (issue 12): the real llama.cpp
# (node-llama-cpp) serving a tiny model with 2 parallel sequences and a known
# context, read through `ai status --json`, `ai detect --json`, a standalone
# `ai watch --json` frame, the daemon's /api/v1/status and its /metrics. The
# model, context per sequence, parallel and KV bytes must be equal to the byte
# (one source: the server's /props and the model file); RSS is read at
# different moments and the server's grows and shrinks between them (its
# garbage collector, other tests beside it): each view's must lie within what
# the test itself reads from /proc/<pid>/status around those moments (3 %
# either side).
# Usage: cross_view.sh <ruvector-memopt> <make_tiny_models> <tests/node dir>
set -euo pipefail
BIN=$1
MAKE_TINY=$2
NODE_DIR=$3
WORK=$(mktemp -d /tmp/memopt_cross_XXXXXX)
SPID= DPID=
cleanup() {
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null || true
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config
"$MAKE_TINY" "$WORK/models" >/dev/null
MODEL=$WORK/models/tiny-llama-gqa.gguf
[ -f "$MODEL" ] || { echo "make_tiny_models wrote no $MODEL"; exit 1; }
CTX=384
(cd "$NODE_DIR" && exec node openai_server.mjs --model "$MODEL" --ctx $CTX --sequences 2) >"$WORK/server.log" 2>&1 &
SPID=$!
for _ in $(seq 1 120); do
  grep -q LISTENING "$WORK/server.log" && break
  kill -0 $SPID 2>/dev/null || { echo "server died:"; cat "$WORK/server.log"; exit 1; }
  sleep 0.5
done
PORT=$(sed -n 's/^LISTENING //p' "$WORK/server.log")
[ -n "$PORT" ] || { echo "server never listened"; cat "$WORK/server.log"; exit 1; }

# The server's resident memory as the kernel says it, around each view.
rss_note() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$SPID/status" >>"$WORK/rss" 2>/dev/null || true; }
rss_note
"$BIN" --json ai status >"$WORK/status.json"
rss_note
"$BIN" --json ai detect >"$WORK/detect.json"
rss_note
"$BIN" --json ai watch >"$WORK/watch.json"
rss_note
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DPORT=$(free_port)
"$BIN" daemon --listen 127.0.0.1:$DPORT --interval 0.5 >"$WORK/daemon.log" 2>&1 &
DPID=$!
ok=0
for _ in $(seq 1 60); do
  sleep 0.5
  rss_note
  if curl -sf --max-time 5 "http://127.0.0.1:$DPORT/api/v1/status" >"$WORK/daemon.json" &&
     python3 - "$WORK/daemon.json" "$SPID" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
w = [w for w in d["workloads"] if pid in w["pids"]]
sys.exit(0 if w and any(m["endpoint"] == w[0]["endpoint"] for m in d["loaded_models"]) else 1)
PY
  then
    ok=1
    break
  fi
done
[ $ok = 1 ] || { echo "the daemon never showed the server's model"; tail -20 "$WORK/daemon.log"; exit 1; }
rss_note
curl -sf --max-time 5 "http://127.0.0.1:$DPORT/metrics" >"$WORK/metrics.txt"
rss_note

python3 - "$WORK" "$SPID" "$PORT" "$CTX" <<'PY'
import json, re, sys
work, pid, port, ctx = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
endpoint = f"http://127.0.0.1:{port}"
fails = []
seen = [int(l) for l in open(f"{work}/rss") if l.strip()]
if len(seen) < 6:
    print(f"read the server's VmRSS only {len(seen)} times"); sys.exit(1)
lo, hi = 0.97 * min(seen), 1.03 * max(seen)
def check_rss(what, got):
    if got is None or not lo <= got <= hi:
        fails.append(f"{what} {got!r}: not within {int(lo)}..{int(hi)} (the kernel's VmRSS "
                     f"around the reads, +/- 3 %)")
def check(what, got, want):
    if got != want:
        fails.append(f"{what}: {got!r} != {want!r}")

def from_status(path, name):
    d = json.load(open(path))
    if name != "ai detect":
        check(f"{name} schema", d.get("schema"), "ruvector-memopt.status/1")
    ws = [w for w in d["workloads"] if pid in w["pids"]]
    if len(ws) != 1:
        fails.append(f"{name}: {len(ws)} workloads hold pid {pid}")
        return None
    w = ws[0]
    ms = [m for m in d["loaded_models"] if m["endpoint"] == endpoint]
    if len(ms) != 1:
        fails.append(f"{name}: {len(ms)} loaded models at {endpoint}")
        return None
    m = ms[0]
    check(f"{name}: the workload is the server alone", w["pids"], [pid])
    return {"runtime": w["runtime"], "flavor": w.get("flavor"), "endpoint": w["endpoint"],
            "model": m["name"], "context": m["context_tokens"], "context_length": m["context_length"],
            "parallel": m["parallel"], "kv_bytes": m["kv_cache_bytes"],
            "kv_source": m["kv_cache"]["capacity_bytes"]["source"],
            "estimate_kv": (w.get("estimate") or {}).get("kv_cache_bytes"), "rss": w["rss_bytes"]}

views = {n: from_status(f"{work}/{f}", n) for n, f in
         [("ai status", "status.json"), ("ai detect", "detect.json"), ("daemon status", "daemon.json")]}
ref = views["ai status"]
if ref is None:
    print("\n".join(fails)); sys.exit(1)
check("runtime", ref["runtime"], "llama.cpp")
check("flavor", ref["flavor"], "node-llama-cpp")
check("endpoint", ref["endpoint"], endpoint)
check("model", ref["model"], "tiny-llama-gqa.gguf")
check("context per sequence", ref["context"], ctx)
check("context_length is per sequence", ref["context_length"], ctx)
check("parallel", ref["parallel"], 2)
check("KV labelled", ref["kv_source"], "estimated")
check("KV of the model = the workload's estimate", ref["kv_bytes"], ref["estimate_kv"])
check_rss("ai status RSS", ref["rss"])
if not ref["kv_bytes"] or ref["kv_bytes"] <= 0:
    fails.append(f"KV bytes missing: {ref['kv_bytes']!r}")
for name, v in views.items():
    if v is None or name == "ai status":
        continue
    for k in ("runtime", "flavor", "endpoint", "model", "context", "parallel", "kv_bytes", "estimate_kv"):
        check(f"{name} {k}", v[k], ref[k])
    check_rss(f"{name} RSS", v["rss"])

# A standalone watch frame.
wj = json.load(open(f"{work}/watch.json"))
rows = [r for r in wj["workloads"] if r["pid"] == pid]
if len(rows) != 1:
    fails.append(f"watch: {len(rows)} rows for pid {pid}")
else:
    r = rows[0]
    check("watch model", r["model"], ref["model"])
    check("watch context", r["context_tokens"], ref["context"])
    check("watch parallel", r["parallel"], ref["parallel"])
    check("watch KV bytes", r["kv_capacity_bytes"], ref["kv_bytes"])
    check_rss("watch RAM", r["ram_bytes"])

# The daemon's /metrics.
text = open(f"{work}/metrics.txt").read()
def metric(name, labels):
    m = re.search(r"^" + name + r"\{" + re.escape(labels) + r"\} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None
ml = f'runtime="llama.cpp",model="{ref["model"]}"'
check("metrics context", metric("ruvector_model_context_tokens", ml), float(ref["context"]))
check("metrics parallel", metric("ruvector_model_parallel_sequences", ml), 2.0)
check("metrics KV bytes", metric("ruvector_model_kv_cache_capacity_bytes", ml), float(ref["kv_bytes"]))
rss = metric("ruvector_workload_ram_bytes", f'runtime="llama.cpp",model="{ref["model"]}",pid="{pid}"')
check_rss("metrics RSS", rss)

if fails:
    print("views disagree:\n  " + "\n  ".join(fails))
    sys.exit(1)
print(f"cross-view: {ref['model']} ctx {ref['context']} x {ref['parallel']}, KV {ref['kv_bytes']} B "
      f"(estimated), RSS {ref['rss']} B: the same in ai status, ai detect, ai watch, the daemon's "
      "status and /metrics")
PY
