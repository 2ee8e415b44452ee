// `ai plan --emit llama-args` and `--no-spill` against the real llama.cpp
// (node-llama-cpp 3.21.1's bundled build, CPU backend):
//  - the emitted arguments parse as llama.cpp's (-ngl, -c, -np, -ctk/-ctv,
//    -fa, -ub) and llama.cpp creates a context with exactly them on the tiny
//    models (a real load, KV cells equal to what the plan asked for);
//  - --no-spill refuses a plan that keeps layers in RAM (exit 1, no
//    arguments, the fully-on-GPU contexts named) and lets a fitting one through;
//  - --emit prints nothing on stdout for a plan that will not load.
// Usage: node estimate_emit_args.mjs --memopt BIN --make-models BIN --work DIR
import {execFileSync, spawnSync} from "node:child_process";
import fs from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {ggmlType} from "./llama_ground_truth.mjs";

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    console.error(`missing ${name}`);
    process.exit(2);
  }
  return process.argv[i + 1];
}
const memopt = arg("--memopt"), makeModels = arg("--make-models"), work = arg("--work");
fs.mkdirSync(work, {recursive: true});
const models = execFileSync(makeModels, [work], {encoding: "utf8"}).trim().split("\n");
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const plan = (args) => spawnSync(memopt, ["ai", "plan", ...args, "--reserve-percent", "0"], {encoding: "utf8"});

// llama.cpp's own option names, as llama-server parses them.
function parseLlamaArgs(line) {
  const t = line.trim().split(/\s+/);
  const o = {};
  for (let i = 0; i < t.length; i++) {
    const v = t[i + 1];
    switch (t[i]) {
      case "-ngl": o.ngl = +v; i++; break;
      case "-c": o.ctx = +v; i++; break;
      case "-np": o.np = +v; i++; break;
      case "-ctk": o.ctk = v; i++; break;
      case "-ctv": o.ctv = v; i++; break;
      case "-fa": o.fa = v; i++; break;
      case "-ub": o.ub = +v; i++; break;
      case "-ts": o.ts = v; i++; break;
      case "--n-cpu-moe": o.ncpumoe = +v; i++; break;
      case "--rope-scaling": o.ropeScaling = v; i++; break;
      case "--rope-scale": o.ropeScale = +v; i++; break;
      case "--yarn-orig-ctx": o.yarnOrigCtx = +v; i++; break;
      default: throw new Error(`unexpected llama.cpp argument '${t[i]}' in '${line}'`);
    }
  }
  return o;
}

let logLines = [];
const llama = await getLlama({gpu: false, logLevel: LlamaLogLevel.debug, logger: (_l, m) => logLines.push(m)});
const cases = [["2048", "1", "f16"], ["1024", "2", "q8_0"], ["512", "4", "q4_0"]];
for (const modelPath of models) {
  const model = await llama.loadModel({modelPath, gpuLayers: 0, useMmap: false});
  for (const [ctx, np, kv] of cases) {
    const tag = `${modelPath} ctx ${ctx} x ${np} ${kv}`;
    const r = plan([modelPath, "--gpus", "none", "--ram", "64GiB", "--ctx", ctx, "--parallel", np,
      "--kv-type", kv, "--emit", "llama-args"]);
    check(r.status === 0, `${tag}: --emit llama-args exit ${r.status}: ${r.stderr}`);
    if (r.status !== 0) continue;
    check(r.stdout.trim().split("\n").length === 1, `${tag}: --emit printed more than one line`);
    const a = parseLlamaArgs(r.stdout);
    check(a.ctx === +ctx * +np && a.np === +np && a.fa === "on" && a.ngl === 0,
      `${tag}: arguments ${r.stdout.trim()}`);
    check(kv === "f16" ? a.ctk === undefined : a.ctk === kv && a.ctv === kv, `${tag}: KV type in ${r.stdout.trim()}`);
    logLines = [];
    const c = new llama._bindings.AddonContext(model._model, {
      contextSize: a.ctx, batchSize: a.ub ?? 512, sequences: a.np, flashAttention: a.fa === "on",
      kvCacheKeyType: ggmlType[a.ctk ?? "f16"], kvCacheValueType: ggmlType[a.ctv ?? "f16"]});
    const ok = await c.init();
    check(ok, `${tag}: llama.cpp refused the emitted arguments ${r.stdout.trim()}`);
    if (ok) {
      // llama.cpp's log reaches node through a queue and may come after init
      // resolves: wait for the KV cache line (bounded: 5 s).
      for (let i = 0; i < 100 && !logLines.some((l) => l.includes("llama_kv_cache: size")); i++)
        await new Promise((res) => setTimeout(res, 50));
      // The KV cache llama.cpp made: ctx/np cells per sequence (padded to 256), np streams.
      const m = logLines.join("\n").match(/llama_kv_cache: size =\s*[\d.]+ MiB \(\s*(\d+) cells,\s*\d+ layers,\s*(\d+)\/(\d+) seqs/);
      check(m && +m[1] === Math.ceil(+ctx / 256) * 256 && +m[3] === +np, `${tag}: llama.cpp's KV cache ${m ? m[0] : "not logged"}`);
      await c.dispose();
    }
  }
  await model.dispose();
}

// --no-spill on the tiny llama: 8 MiB of "GPU" at 16k (4x its trained 4096
// tokens, so with YaRN) keeps layers in RAM -> refused, naming the contexts
// that fit; the named f16 context then passes.
const yarn = ["--rope-scaling", "yarn", "--rope-scale", "4"];
const tinyLlama = models.find((m) => m.includes("llama"));
const spill = plan([tinyLlama, "--vram", "8MiB", "--gpu-overhead", "0", "--ctx", "16384", ...yarn, "--no-spill"]);
check(spill.status === 1, `--no-spill on a spilling plan: exit ${spill.status} (want 1)`);
check(/refused \(--no-spill\): this plan keeps \d+ of \d+ layers in RAM/.test(spill.stdout),
  `--no-spill: no refusal in ${spill.stdout}`);
check(/Fully on the GPUs, per sequence: f16 up to \d+/.test(spill.stdout.replace(/\s+/g, " ")), `--no-spill: no fitting context named`);
check(!spill.stdout.includes("llama.cpp  -ngl"), "--no-spill: arguments printed for a refused plan");
const spillEmit = plan([tinyLlama, "--vram", "8MiB", "--gpu-overhead", "0", "--ctx", "16384", ...yarn, "--no-spill", "--emit", "llama-args"]);
check(spillEmit.status === 1 && spillEmit.stdout === "" && spillEmit.stderr.includes("refused (--no-spill)"),
  `--no-spill --emit: exit ${spillEmit.status}, stdout '${spillEmit.stdout}'`);
const spillJson = spawnSync(memopt, ["--json", "ai", "plan", tinyLlama, "--vram", "8MiB", "--gpu-overhead", "0",
  "--ctx", "16384", ...yarn, "--no-spill", "--reserve-percent", "0"], {encoding: "utf8"});
const doc = JSON.parse(spillJson.stdout);
check(doc.refused_spill === true && doc.fits === false && doc.launch.llama_cpp_args.length === 0,
  `--no-spill --json: refused_spill ${doc.refused_spill}, fits ${doc.fits}`);
const named = spill.stdout.replace(/\s+/g, " ").match(/f16 up to (\d+)/);
if (named) {
  const room = plan([tinyLlama, "--vram", "8MiB", "--gpu-overhead", "0", "--ctx", named[1], ...yarn, "--no-spill", "--emit", "llama-args"]);
  check(room.status === 0 && parseLlamaArgs(room.stdout).ngl === 5 && parseLlamaArgs(room.stdout).ctx === +named[1],
    `--no-spill at the named context ${named[1]}: exit ${room.status}, '${room.stdout.trim()}' ${room.stderr}`);
}

// Beyond the trained context without RoPE scaling: refused, naming the trained
// length; with it, the arguments carry the scaling.
const beyond = plan([tinyLlama, "--gpus", "none", "--ram", "64GiB", "--ctx", "16384"]);
check(beyond.status === 1 && beyond.stderr.includes("is beyond the trained context of") &&
  beyond.stderr.includes("(4096 tokens)") && beyond.stderr.includes("--rope-scaling yarn --rope-scale 4"),
  `--ctx 16384 without scaling: exit ${beyond.status} ${beyond.stderr}`);
const scaled = plan([tinyLlama, "--gpus", "none", "--ram", "64GiB", "--ctx", "16384", ...yarn, "--emit", "llama-args"]);
const sa = scaled.status === 0 ? parseLlamaArgs(scaled.stdout) : {};
check(sa.ctx === 16384 && sa.ropeScaling === "yarn" && sa.ropeScale === 4 && sa.yarnOrigCtx === 4096,
  `--ctx 16384 with yarn x4: exit ${scaled.status} '${scaled.stdout.trim()}' ${scaled.stderr}`);
const tooFar = plan([tinyLlama, "--gpus", "none", "--ram", "64GiB", "--ctx", "32768", ...yarn]);
check(tooFar.status === 1 && tooFar.stderr.includes("beyond what RoPE scaling x4 reaches from the trained 4096 tokens (16384)"),
  `--ctx 32768 with yarn x4: exit ${tooFar.status} ${tooFar.stderr}`);

if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`emit/no-spill: ${models.length} models x ${cases.length} settings loaded by llama.cpp with the emitted arguments; --no-spill refused and passed as expected`);
