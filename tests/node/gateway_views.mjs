// The gateway made visible: the real `serve` on real llama.cpp (node-llama-cpp
// backends on tiny generated GGUFs, found through the same config.toml the
// gateway reads), and what `ai status --json`, `ai status`, `ai models --json`
// and `ai models` say about its models as they go from stopped to ready, busy
// while a request streams, queued behind it, and back; then `daemon --serve`
// and its /api/v1/status (issue 15, issue 18).
//   node gateway_views.mjs <ruvector-memopt> <make_tiny_models> [record.json]
// With a third argument, the gateway's /serve/state during the stream is
// written there (how tests/fixtures/serve/serve-state.json was recorded).
import {spawn, execFile, execFileSync} from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import {promisify} from "node:util";
import OpenAI from "openai";
import {SERVER, harness, modelToml as model, sleep} from "./gateway_support.mjs";

const [BIN, MAKE_TINY, RECORD] = process.argv.slice(2);
if (!BIN || !MAKE_TINY) {
  console.error("usage: gateway_views.mjs <ruvector-memopt> <make_tiny_models> [record.json]");
  process.exit(2);
}
const h = harness("gateway_views", MAKE_TINY);
const {check, A, B} = h;
const WORK = h.work;
// The views find the gateway the way users' do: [serve] listen of
// $XDG_CONFIG_HOME/ruvector-memopt/config.toml, no flag.
const env = h.env;
let gateway = null;
const configFile = path.join(WORK, "config", "ruvector-memopt", "config.toml");
fs.mkdirSync(path.dirname(configFile), {recursive: true});

const freePort = () => new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const port = await freePort();
const writeConfig = (budget) => fs.writeFileSync(configFile, `[serve]
listen = "127.0.0.1:${port}"
memory_budget = "${budget}"
queue_timeout_seconds = 120
max_queue = 4
${model("tiny-a", A, 512)}${model("tiny-b", B, 512)}${model("too-big", A, 1048576)}`);

// A budget that holds either tiny model but not both (the planner's figures).
writeConfig("1TiB");
const planned = JSON.parse(execFileSync(BIN, ["--json", "serve", "--check"], {env}).toString());
const need = Object.fromEntries(planned.models.map((m) => [m.name, m.planned_bytes[0]]));
const budget = Math.max(need["tiny-a"], need["tiny-b"]) +
               Math.floor(Math.min(need["tiny-a"], need["tiny-b"]) / 2);
writeConfig(String(budget));

const run = promisify(execFile);
const cli = async (...args) => (await run(BIN, args, {env, maxBuffer: 64 << 20})).stdout;
const statusJson = async () => JSON.parse(await cli("--json", "ai", "status", "--no-probe"));
const modelsJson = async () => JSON.parse(await cli("--json", "ai", "models"));
const gwModel = (doc, name) => (doc.gateway && doc.gateway.models || []).find((m) => m.name === name);

// 0. Configured but not running: the section says so, the command still works.
const down = await statusJson();
check(down.gateway && down.gateway.reachable === false && down.gateway.listen === `127.0.0.1:${port}` &&
      /127\.0\.0\.1:\d+\/serve\/state/.test(down.gateway.error || ""),
      "no gateway running: ai status --json reports it unreachable, with the URL",
      down.gateway && down.gateway.error);
check(/Gateway 127\.0\.0\.1:\d+: not reachable/.test(await cli("ai", "status", "--no-probe")),
      "and ai status says so in a line");

gateway = h.child = spawn(BIN, ["--json", "serve", "--log-dir", path.join(WORK, "logs")],
                {env, stdio: ["ignore", "pipe", "inherit"]});
await new Promise((resolve, reject) => {
  let out = "";
  gateway.stdout.on("data", (d) => { out += d; if (out.includes("\n")) resolve(); });
  gateway.on("exit", (c) => reject(new Error(`serve exited ${c}`)));
});
const base = `http://127.0.0.1:${port}`;
const serveState = async () => (await fetch(`${base}/serve/state`)).json();
const openai = new OpenAI({baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0});

// 1. Stopped: every model listed, no pid, nothing queued; planned bytes as planned.
const s0 = await statusJson();
check(s0.gateway.reachable === true && s0.gateway.error === null && s0.gateway.models.length === 3,
      "ai status --json: the gateway section lists its three models", JSON.stringify(s0.gateway.error));
check(["tiny-a", "tiny-b", "too-big"].every((n) => gwModel(s0, n).state === "stopped" &&
      gwModel(s0, n).pid === null && gwModel(s0, n).queued === 0),
      "all stopped, no pid, queue 0");
check(gwModel(s0, "tiny-a").planned_bytes[0] === need["tiny-a"] &&
      s0.gateway.devices[0].budget_bytes === budget,
      "planned bytes and budget are the planner's", `${gwModel(s0, "tiny-a").planned_bytes[0]} / ${budget}`);
const m0 = await modelsJson();
check(gwModel(m0, "tiny-a") && gwModel(m0, "tiny-a").state === "stopped",
      "ai models --json: tiny-a stopped");

// 2. Ready after a request: the backend's pid, and the process is that backend.
const first = await openai.chat.completions.create({model: "tiny-a", max_tokens: 4,
  messages: [{role: "user", content: "hi"}]});
check(first.usage.completion_tokens === 4, "tiny-a answered through the gateway");
const s1 = await statusJson();
const a1 = gwModel(s1, "tiny-a");
const pidA = (await serveState()).models.find((m) => m.name === "tiny-a").pid;
check(a1.state === "ready" && a1.pid === pidA && pidA > 0, "ai status --json: tiny-a ready with the backend's pid",
      `${a1.state} pid ${a1.pid} (serve says ${pidA})`);
const cmdline = fs.readFileSync(`/proc/${pidA}/cmdline`, "utf8").split("\0");
check(cmdline.includes(SERVER) && cmdline.includes(A), "that pid is the node-llama-cpp backend on tiny-a's GGUF");
check(a1.mean_wait_seconds !== null && a1.mean_wait_seconds >= 0, "mean wait known after one request",
      String(a1.mean_wait_seconds));
const owners = s1.workloads.filter((w) => w.pid === pidA || (w.pids || []).includes(pidA));
check(owners.length === 1 && owners[0].gateway_model === "tiny-a",
      "the detector's workload for that process is joined to tiny-a (by pid), once",
      JSON.stringify(owners.map((w) => [w.runtime, w.pid, w.gateway_model])));
const text1 = await cli("ai", "status", "--no-probe");
const rowsWithPid = text1.split("\n").filter((l) => new RegExp(`\\b${pidA}\\b`).test(l));
check(rowsWithPid.length === 1 && /tiny-a\s+ready/.test(rowsWithPid[0]),
      "ai status lists the backend once, as tiny-a ready under the gateway", JSON.stringify(rowsWithPid));
check(text1.split("\n").every((l) => l.length <= 80), "ai status fits 80 columns");
const m1 = await modelsJson();
check(gwModel(m1, "tiny-a").state === "ready" && gwModel(m1, "tiny-a").pid === pidA,
      "ai models --json: tiny-a ready with the same pid");
const backendRows = m1.models.filter((m) => m.endpoint && m.endpoint.endsWith(`:${gwModel(m1, "tiny-a").port}`));
check(backendRows.every((m) => m.gateway_model === "tiny-a"),
      "a runtime row for the backend (if the runtimes list it) is marked as tiny-a's",
      JSON.stringify(backendRows.map((m) => [m.name, m.gateway_model])));
const mtext = await cli("ai", "models");
check(/tiny-a\s+ready\s+\d+/.test(mtext) && mtext.split("\n").every((l) => l.length <= 80),
      "ai models lists tiny-a ready under the gateway, in 80 columns");

// 3. Busy while a request streams; tiny-b (which cannot share the budget) waits.
const stream = await openai.chat.completions.create({model: "tiny-a", max_tokens: 20000, stream: true,
  messages: [{role: "user", content: "count"}]});
const it = stream[Symbol.asyncIterator]();
await it.next();
const bDone = openai.chat.completions.create({model: "tiny-b", max_tokens: 3,
  messages: [{role: "user", content: "hi"}]});
await sleep(300);
const [s2, recorded] = await Promise.all([statusJson(), serveState()]);
if (RECORD) fs.writeFileSync(RECORD, JSON.stringify(recorded, null, 2) + "\n");
const a2 = gwModel(s2, "tiny-a"), b2 = gwModel(s2, "tiny-b");
check(a2.state === "busy" && a2.pid === pidA && a2.in_flight === 1,
      "while the stream runs: tiny-a busy, same pid, one request in flight", `${a2.state} ${a2.in_flight}`);
check(b2.queued === 1 && b2.oldest_wait_seconds > 0.2 && b2.state !== "ready",
      "tiny-b: one request queued, waiting since it was sent", `${b2.state} queued ${b2.queued} wait ${b2.oldest_wait_seconds}`);
let chunks = 1;
for (let r = await it.next(); !r.done; r = await it.next()) chunks++;
await bDone;
check(chunks > 100, "the stream ran to its end", `${chunks} chunks`);

// 4. After: tiny-b holds the budget, tiny-a was evicted and its backend is gone.
const s3 = await statusJson();
const b3 = gwModel(s3, "tiny-b"), a3 = gwModel(s3, "tiny-a");
check(b3.state === "ready" && b3.pid > 0 && b3.pid !== pidA && b3.queued === 0 &&
      b3.mean_wait_seconds > 0.2,
      "tiny-b ready with its own backend, queue empty, its wait counted", `${b3.state} ${b3.pid} ${b3.mean_wait_seconds}`);
check(a3.state === "stopped" && a3.pid === null, "tiny-a stopped (evicted), no pid");
let alive = true;
try { process.kill(pidA, 0); } catch { alive = false; }
check(!alive, "tiny-a's backend process is gone");

gateway.kill("SIGTERM");
await new Promise((r) => gateway.on("exit", r));

// 5. `daemon --serve`: the same gateway inside the daemon; its status
//    document (/api/v1/status, what the web dashboard reads) carries it.
const apiPort = await freePort();
const api = `http://127.0.0.1:${apiPort}`;
gateway = h.child = spawn(BIN, ["daemon", "--serve", "--listen", `127.0.0.1:${apiPort}`,
                      "--interval", "0.5", "--no-probe", "--state-dir", path.join(WORK, "dstate")],
                {env, stdio: ["ignore", "ignore", "inherit"]});
const apiStatus = async () => {
  try { return await (await fetch(`${api}/api/v1/status`)).json(); } catch { return null; }
};
let d0 = null;
for (let i = 0; i < 100 && !(d0 && d0.gateway && d0.gateway.reachable); i++) {
  await sleep(200);
  d0 = await apiStatus();
}
check(d0 && d0.gateway && d0.gateway.reachable && d0.gateway.listen === `127.0.0.1:${port}` &&
      d0.gateway.models.every((m) => m.state === "stopped"),
      "daemon --serve: /api/v1/status carries its gateway, models stopped",
      JSON.stringify(d0 && d0.gateway && [d0.gateway.listen, d0.gateway.error]));
const viaDaemon = await openai.chat.completions.create({model: "tiny-a", max_tokens: 3,
  messages: [{role: "user", content: "hi"}]});
check(viaDaemon.usage.completion_tokens === 3, "daemon --serve: tiny-a answers on the [serve] port");
const pidD = (await serveState()).models.find((m) => m.name === "tiny-a").pid;
let d1 = null;
for (let i = 0; i < 50; i++) {
  d1 = await apiStatus();
  const a = d1 && d1.gateway && gwModel(d1, "tiny-a");
  if (a && a.state === "ready") break;
  await sleep(200);
}
check(gwModel(d1, "tiny-a").state === "ready" && gwModel(d1, "tiny-a").pid === pidD && pidD > 0,
      "and the daemon's status shows tiny-a ready with its backend's pid", `pid ${pidD}`);
gateway.kill("SIGTERM");
await new Promise((r) => gateway.on("exit", r));
alive = true;
try { process.kill(pidD, 0); } catch { alive = false; }
check(!alive, "stopping the daemon stops the gateway's backends");
console.log(h.failures ? `${h.failures} check(s) failed` : "gateway views: all checks passed");
process.exit(h.failures ? 1 : 0);
