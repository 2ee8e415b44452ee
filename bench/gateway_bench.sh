#!/usr/bin/env bash
# The gateway's overhead on the real llama.cpp (issue 15), side by side in one
# run: time to first token and tokens/s of the same node-llama-cpp server
# (tests/node/openai_server.mjs, a tiny generated model) asked directly and
# through `serve` (as a runtime = "llamacpp" endpoint, so both paths reach the
# same process), alternating request by request; then 100 concurrent streams
# through the gateway, each checked for every chunk. Then the same pairs
# against a metronome upstream (bench/metronome_server.mjs: a chunk every
# 5 ms by default, whatever the machine does), where a tokens/s difference can only be
# the gateway's: on a shared 2-core machine the real server's own spread is
# several per cent, far above the 1 % the target asks about. Not in CI.
# Usage: bench/gateway_bench.sh <ruvector-memopt> <make_tiny_models> [requests] [tokens] [metronome ms]
set -euo pipefail
BIN=$(realpath "$1")
MAKE_TINY=$(realpath "$2")
N=${3:-30}
TOKENS=${4:-64}
METRO_MS=${5:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/memopt_gwbench_XXXXXX)
SPID= GPID= MPID=
cleanup() {
  [ -n "$GPID" ] && kill "$GPID" 2>/dev/null || true
  [ -n "$MPID" ] && kill "$MPID" 2>/dev/null || true
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config
"$MAKE_TINY" "$WORK/models" >/dev/null
(cd "$ROOT/tests/node" && exec node openai_server.mjs --model "$WORK/models/tiny-llama-gqa.gguf" \
   --parallel 4 --ctx-size 2048) >"$WORK/server.log" 2>&1 &
SPID=$!
for _ in $(seq 1 120); do grep -q LISTENING "$WORK/server.log" && break; sleep 0.5; done
SPORT=$(sed -n 's/^LISTENING //p' "$WORK/server.log")
[ -n "$SPORT" ] || { echo "server never listened"; cat "$WORK/server.log"; exit 1; }
node "$ROOT/bench/metronome_server.mjs" "$METRO_MS" >"$WORK/metronome.log" 2>&1 &
MPID=$!
for _ in $(seq 1 50); do grep -q LISTENING "$WORK/metronome.log" && break; sleep 0.1; done
MPORT=$(sed -n 's/^LISTENING //p' "$WORK/metronome.log")
[ -n "$MPORT" ] || { echo "metronome never listened"; cat "$WORK/metronome.log"; exit 1; }
cat >"$WORK/c.toml" <<TOML
[serve]
listen = "127.0.0.1:0"
memory_budget = "64GiB"
max_queue = 1000
[serve.models."tiny"]
runtime = "llamacpp"
endpoint = "http://127.0.0.1:$SPORT"
model = "tiny"
[serve.models."metro"]
runtime = "llamacpp"
endpoint = "http://127.0.0.1:$MPORT"
model = "metro"
TOML
"$BIN" --json serve --config "$WORK/c.toml" --log-dir "$WORK/logs" >"$WORK/gw.out" 2>"$WORK/gw.err" &
GPID=$!
for _ in $(seq 1 100); do [ -s "$WORK/gw.out" ] && break; sleep 0.1; done
GPORT=$(head -1 "$WORK/gw.out" | sed -E 's/.*"listening":([0-9]+).*/\1/')
[ -n "$GPORT" ] || { echo "serve did not start"; cat "$WORK/gw.err"; exit 1; }
cd "$ROOT/tests/node"
echo "machine: $(nproc) cores,$(uptime | sed 's/.*load average/ load average/')"
node --input-type=module - "$SPORT" "$GPORT" "$N" "$TOKENS" "$GPID" "$SPID" "$MPORT" "$METRO_MS" <<'JS'
import fs from "node:fs";
const [sport, gport, n, tokens, gpid, spid, mport, metroMs] = process.argv.slice(2).map(Number);
// CPU time (user + system, ms) a process has used: what the gateway costs,
// whatever the other programs on the machine do to the latencies.
const tick = 1000 / 100;  // USER_HZ
const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * tick;
};
async function stream(port, maxTokens, model = "tiny") {
  const t0 = performance.now();
  const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({model, stream: true, max_tokens: maxTokens,
                          messages: [{role: "user", content: "hi"}]})});
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = "", chunks = 0, first = 0, last = 0, done = false;
  for (;;) {
    const {value, done: end} = await reader.read();
    if (end) break;
    buf += dec.decode(value, {stream: true});
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, i); buf = buf.slice(i + 2);
      if (!ev.startsWith("data: ")) continue;
      if (ev === "data: [DONE]") { done = true; continue; }
      const j = JSON.parse(ev.slice(6));
      if (j.choices?.[0]?.delta?.content) {
        chunks++;
        last = performance.now();
        if (chunks === 1) first = last;
      }
    }
  }
  return {ttft: first - t0, tps: (chunks - 1) / ((last - first) / 1000), chunks, done};
}
const quantile = (a, q) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };
const median = (a) => quantile(a, 0.5);
await stream(sport, 4); await stream(gport, 4);  // warm both paths
const d = [], g = [];
let gatewayCpu = 0, serverCpu = 0;
for (let i = 0; i < n; i++) {
  d.push(await stream(sport, tokens));
  const g0 = cpuMs(gpid), s0 = cpuMs(spid);
  g.push(await stream(gport, tokens));
  gatewayCpu += cpuMs(gpid) - g0;
  serverCpu += cpuMs(spid) - s0;
}
// Median and interquartile range: the machine is shared, so the spread is
// part of the answer.
const iqr = (a, digits) => `${median(a).toFixed(digits)} [${quantile(a, 0.25).toFixed(digits)}..${quantile(a, 0.75).toFixed(digits)}]`;
const row = (name, a) => `${name.padEnd(8)} TTFT ms ${iqr(a.map((x) => x.ttft), 2)}   tokens/s ${iqr(a.map((x) => x.tps), 1)}`;
console.log(`${n} alternating streams of ${tokens} tokens each (tiny-llama-gqa, node-llama-cpp, 1 thread); median [p25..p75]`);
console.log(row("direct", d));
console.log(row("gateway", g));
const dt = median(g.map((x) => x.ttft)) - median(d.map((x) => x.ttft));
const dp = 100 * (1 - median(g.map((x) => x.tps)) / median(d.map((x) => x.tps)));
console.log(`added TTFT ${dt.toFixed(2)} ms (target < 2), tokens/s ${dp.toFixed(2)} % lower (target < 1)`);
// Each gateway stream against the direct one just before it: load that
// drifts during the run moves both alike.
const pairTtft = g.map((x, i) => x.ttft - d[i].ttft);
const pairTps = g.map((x, i) => 100 * (1 - x.tps / d[i].tps));
console.log(`paired: added TTFT ${iqr(pairTtft, 2)} ms, tokens/s lower ${iqr(pairTps, 2)} %`);
console.log(`gateway CPU over its ${n} streams: ${gatewayCpu.toFixed(0)} ms (${(1000 * gatewayCpu / (n * tokens)).toFixed(1)} us a token; the backend: ${serverCpu.toFixed(0)} ms)`);
// The metronome: same pairs, an upstream whose pace never varies.
const md = [], mg = [];
await stream(mport, 4, "metro"); await stream(gport, 4, "metro");
for (let i = 0; i < 4 * n; i++) {
  md.push(await stream(mport, 200, "metro"));
  mg.push(await stream(gport, 200, "metro"));
}
console.log(`${4 * n} alternating streams of 200 chunks from the metronome (a chunk every ${metroMs} ms); median [p25..p75]`);
console.log(row("direct", md));
console.log(row("gateway", mg));
const mt = median(mg.map((x) => x.ttft)) - median(md.map((x) => x.ttft));
const mp = 100 * (1 - median(mg.map((x) => x.tps)) / median(md.map((x) => x.tps)));
const mpair = mg.map((x, i) => 100 * (1 - x.tps / md[i].tps));
console.log(`metronome: added TTFT ${mt.toFixed(2)} ms, tokens/s ${mp.toFixed(2)} % lower (target < 1); paired ${iqr(mpair, 2)} %`);
const t0 = performance.now();
const many = await Promise.all(Array.from({length: 100}, () => stream(gport, 16)));
const whole = many.filter((x) => x.chunks === 16 && x.done).length;
console.log(`100 concurrent streams through the gateway: ${whole}/100 whole (16 chunks + [DONE]) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exit(whole === 100 ? 0 : 1);
JS
