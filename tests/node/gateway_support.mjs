// What the gateway's node tests (gateway.mjs, gateway_views.mjs) share: a
// work folder removed at exit together with the process they started, checks
// that count failures, the tiny generated GGUFs, and a [serve.models] table
// that runs openai_server.mjs (node-llama-cpp) on one of them.
import {execFileSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SERVER = path.join(HERE, "openai_server.mjs");
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `name` names the work folder; `makeTiny` is the make_tiny_models binary.
// h.child: the process to kill (SIGKILL) if the test exits with it running.
export function harness(name, makeTiny) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `memopt_${name}_`));
  const h = {
    work,
    failures: 0,
    child: null,
    check(ok, what, detail = "") {
      console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? ` (${detail})` : ""}`);
      if (!ok) h.failures++;
    },
    A: path.join(work, "models", "tiny-llama-gqa.gguf"),
    B: path.join(work, "models", "tiny-gemma2-swa.gguf"),
    env: {...process.env, XDG_STATE_HOME: path.join(work, "state"),
          XDG_CONFIG_HOME: path.join(work, "config")},
  };
  process.on("exit", () => {
    if (h.child && h.child.exitCode === null) h.child.kill("SIGKILL");
    fs.rmSync(work, {recursive: true, force: true});
  });
  execFileSync(makeTiny, [path.join(work, "models")]);
  return h;
}

export const modelToml = (name, gguf, ctx) => `
[serve.models."${name}"]
command = ["node", "${SERVER}", "--model", "${gguf}", "--port", "\${PORT}", "--ctx-size", "${ctx}"]
`;
