#!/usr/bin/env bash
# A real Prometheus (Debian's package) scrapes a real daemon on loopback with
# the shipped alert rules; its query API must return our series.
# Usage: daemon_prometheus.sh <ruvector-memopt> <source dir>
set -euo pipefail
BIN=$1
SRC=$2
command -v prometheus >/dev/null || { echo "prometheus not installed (scripts/setup.sh installs it)"; exit 1; }
WORK=$(mktemp -d /tmp/memopt_prom_XXXXXX)
DPID= PPID_= 
cleanup() {
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
  [ -n "$PPID_" ] && kill "$PPID_" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DPORT=$(free_port)
PPORT=$(free_port)
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config
"$BIN" daemon --listen 127.0.0.1:$DPORT --interval 0.5 --no-probe >"$WORK/daemon.log" 2>&1 &
DPID=$!
sed -e "s/127.0.0.1:7878/127.0.0.1:$DPORT/" -e "s/scrape_interval: 5s/scrape_interval: 1s/" \
  "$SRC/dist/prometheus/prometheus.yml" >"$WORK/prometheus.yml"
cp "$SRC/dist/prometheus/alerts.yml" "$WORK/alerts.yml"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address=127.0.0.1:$PPORT >"$WORK/prometheus.log" 2>&1 &
PPID_=$!
query() { curl -sf --max-time 2 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" || true; }
ok=0
for _ in $(seq 1 60); do
  sleep 1
  r=$(query 'ruvector_host_memory_available_bytes')
  if echo "$r" | python3 -c 'import json,sys; d=json.load(sys.stdin); v=d["data"]["result"]; sys.exit(0 if v and float(v[0]["value"][1])>0 else 1)' 2>/dev/null; then
    ok=1
    break
  fi
done
if [ $ok != 1 ]; then
  echo "Prometheus never returned ruvector_host_memory_available_bytes"
  tail -5 "$WORK/daemon.log" "$WORK/prometheus.log"
  exit 1
fi
# The target is up, and the counters and per-kind series are there too.
up=$(query 'up{job="ruvector-memopt"}')
echo "$up" | python3 -c 'import json,sys; v=json.load(sys.stdin)["data"]["result"]; assert v and v[0]["value"][1]=="1", v'
n=$(query 'ruvector_daemon_samples_total')
echo "$n" | python3 -c 'import json,sys; v=json.load(sys.stdin)["data"]["result"]; assert v and float(v[0]["value"][1])>=1, v'
k=$(query 'ruvector_policy_actions_total')
echo "$k" | python3 -c 'import json,sys; v=json.load(sys.stdin)["data"]["result"]; kinds={r["metric"]["kind"] for r in v}; assert {"unload","reload_fewer_layers","restore_layers"} <= kinds, kinds'
# The shipped rules loaded.
curl -sf --max-time 2 "http://127.0.0.1:$PPORT/api/v1/rules" | python3 -c 'import json,sys; g=json.load(sys.stdin)["data"]["groups"]; names={r["name"] for x in g for r in x["rules"]}; assert "GpuVramNearlyFull" in names and "ModelSpillingToCpu" in names, names'
echo "prometheus scraped the daemon: $(echo "$r" | head -c 300)"
