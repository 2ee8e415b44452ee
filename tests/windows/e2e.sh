#!/usr/bin/env bash
# e2e.sh WIN_BUILD_DIR LINUX_BUILD_DIR: ruvector-memopt.exe under Wine, end
# to end (CTest windows_e2e).
#  1. --version, `model inspect --json` and `ai plan --json` on the Linux
#     build's sample.gguf print the same documents as the Linux binary
#     (compared as JSON, every member).
#  2. `ai status --json` and `vram status --json` run and say what they
#     cannot see (no NVML, no GPU) instead of failing; `ai watch` prints a
#     plain frame in 80 columns and its --json document.
#  3. Detection through the Windows API: module_holder.exe loads DirectML.dll
#     (then llama.dll + ggml.dll) built by MinGW; `ai detect --json` names
#     that pid a DirectML (llama.cpp) workload with the library as evidence.
#     A copy named python.exe started in a folder named ComfyUI is a ComfyUI
#     workload by its working directory (read from its PEB).
set -euo pipefail
win="$(cd "$1" && pwd)"
lin="$(cd "$2" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
exe="$win/ruvector-memopt.exe"
run() { "$here/wine_run.sh" "$win/wineprefix" "$@"; }
fail() {
  echo "windows_e2e: FAILED: $*" >&2
  exit 1
}
for f in "$exe" "$lin/ruvector-memopt" "$lin/sample.gguf" "$win/module_holder.exe"; do
  [ -e "$f" ] || fail "$f is missing (build the Linux build and scripts/build-windows.sh first)"
done
out="$(mktemp -d)"
trap 'rm -f "$out"/*.pid; sleep 0.3; rm -rf "$out"' EXIT

# 1. The same documents from both builds.
compare() {
  local name="$1"
  shift
  "$lin/ruvector-memopt" "$@" >"$out/$name.linux" 2>"$out/$name.linux.err" ||
    fail "linux: $* exited $? ($(head -c 300 "$out/$name.linux.err"))"
  run "$exe" "$@" >"$out/$name.win" 2>"$out/$name.win.err" ||
    fail "wine: $* exited $? ($(head -c 300 "$out/$name.win.err"))"
  python3 - "$out/$name.linux" "$out/$name.win" "$name" <<'EOF' || fail "$name differs"
import json, sys
a, b, name = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
if name == "version":
    a, b = a.replace("\r\n", "\n"), b.replace("\r\n", "\n")
    ok = a == b and a.startswith("ruvector-memopt")
    print(f"{name}: {'same' if ok else 'DIFFERENT'}: {a.strip()!r} / {b.strip()!r}")
    sys.exit(0 if ok else 1)
ja, jb = json.loads(a), json.loads(b)
def diff(x, y, path="$"):
    if type(x) != type(y):
        return [f"{path}: {x!r} vs {y!r}"]
    if isinstance(x, dict):
        out = [f"{path}.{k}: only in one" for k in set(x) ^ set(y)]
        for k in set(x) & set(y):
            out += diff(x[k], y[k], f"{path}.{k}")
        return out
    if isinstance(x, list):
        if len(x) != len(y):
            return [f"{path}: {len(x)} vs {len(y)} items"]
        return [d for i, (p, q) in enumerate(zip(x, y)) for d in diff(p, q, f"{path}[{i}]")]
    return [] if x == y else [f"{path}: {x!r} vs {y!r}"]
d = diff(ja, jb)
size = len(json.dumps(ja))
print(f"{name}: {'same' if not d else 'DIFFERENT'} ({size} bytes of JSON)")
for line in d[:20]:
    print("  ", line)
sys.exit(1 if d or size < 200 else 0)
EOF
}
compare version --version
compare inspect model inspect "$lin/sample.gguf" --json
compare plan ai plan "$lin/sample.gguf" --json --gpus none --ram 16GiB --ctx 8192 \
  --rope-scaling yarn --rope-scale 2
compare plan_vram ai plan "$lin/sample.gguf" --json --vram 8GiB,4GiB --ram 16GiB --ctx 4096 --parallel 2

# 2. Status without a GPU: exit 0, and a note that says why nothing is seen.
for cmd in "ai status" "vram status"; do
  # shellcheck disable=SC2086
  run "$exe" $cmd --json >"$out/status.json" 2>"$out/status.err" ||
    fail "wine: $cmd --json exited $? ($(head -c 300 "$out/status.err"))"
  python3 - "$out/status.json" "$cmd" <<'EOF' || fail "$cmd --json does not say what it cannot see"
import json, sys
doc = json.load(open(sys.argv[1]))
text = json.dumps(doc)
ok = "nvml.dll" in text and "not found" in text
mem = doc.get("host", doc).get("memory", doc.get("memory", {})) if isinstance(doc, dict) else {}
print(f"{sys.argv[2]}: notes name nvml.dll: {ok}")
sys.exit(0 if ok else 1)
EOF
done

# 2b. `ai watch` on Windows: a plain frame (the console view is the same
# screen drawn with VT sequences) fits 80 columns and shows the host memory
# the Windows collector read; its --json is the watch document with RAM.
run "$exe" ai watch --plain --frames 1 >"$out/watch.txt" 2>"$out/watch.err" ||
  fail "wine: ai watch --plain --frames 1 exited $? ($(head -c 300 "$out/watch.err"))"
run "$exe" ai watch --json >"$out/watch.json" 2>"$out/watch.err" ||
  fail "wine: ai watch --json exited $? ($(head -c 300 "$out/watch.err"))"
python3 - "$out/watch.txt" "$out/watch.json" <<'EOF' || fail "ai watch under Wine"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().replace("\r\n", "\n").splitlines()
doc = json.load(open(sys.argv[2]))
ram = doc.get("ram") or {}
wide = [l for l in lines if len(l) > 80]
ok = (bool(lines) and lines[0].startswith("ruvector-memopt ai watch") and not wide
      and any(l.startswith("RAM ") for l in lines) and "No GPU found" in "\n".join(lines)
      and doc.get("schema") == "ruvector-memopt.watch/1" and ram.get("total_bytes", 0) > 0)
print(f"ai watch: {len(lines)} lines, widest {max(map(len, lines)) if lines else 0}, "
      f"RAM total {ram.get('total_bytes')}: {ok}")
sys.exit(0 if ok else 1)
EOF

# 3. Workloads seen through Toolhelp32 and EnumProcessModulesEx.
detect_holder() {
  local label="$1" runtime="$2" evidence="$3"
  shift 3
  local pidfile="$out/$label.pid"
  (cd "${HOLDER_CWD:-.}" && run "${HOLDER:-$win/module_holder.exe}" "$pidfile" 60 "$@") \
    >"$out/$label.holder.log" 2>&1 &
  local holder=$!
  for _ in $(seq 1 300); do
    [ -s "$pidfile" ] && break
    kill -0 "$holder" 2>/dev/null || fail "module_holder ($label) exited: $(cat "$out/$label.holder.log")"
    sleep 0.1
  done
  [ -s "$pidfile" ] || fail "module_holder ($label) wrote no pid in 30 s"
  local pid
  pid="$(tr -d '\r\n' <"$pidfile")"
  run "$exe" ai detect --json >"$out/$label.json" 2>"$out/$label.err" ||
    fail "wine: ai detect --json exited $? ($(head -c 300 "$out/$label.err"))"
  rm -f "$pidfile"  # module_holder exits
  wait "$holder" || true
  python3 - "$out/$label.json" "$pid" "$runtime" "$evidence" "$label" <<'EOF' ||
import json, sys
doc, pid, runtime, evidence, label = json.load(open(sys.argv[1])), int(sys.argv[2]), *sys.argv[3:]
ws = [w for w in doc.get("workloads", []) if w.get("pid") == pid]
if not ws:
    print(f"{label}: no workload with pid {pid}; workloads: "
          f"{[(w.get('pid'), w.get('runtime')) for w in doc.get('workloads', [])]}")
    sys.exit(1)
w = ws[0]
text = json.dumps(w)
# The Linux build's "DirectML: Windows only" note has no place here.
ok = w.get("runtime") == runtime and evidence in text and "Windows only" not in json.dumps(doc)
print(f"{label}: pid {pid} is {w.get('runtime')!r}, evidence names {evidence}: {ok}")
sys.exit(0 if ok else 1)
EOF
    fail "$label: pid $pid is not a $runtime workload (document in $out/$label.json)"
}
# Wine's drive Z: is the Unix root.
mods="$win/fake_modules"
wmods="Z:${mods//\//\\}"
detect_holder directml directml DirectML.dll "$wmods\\DirectML.dll"
detect_holder llamacpp llama.cpp llama.dll "$wmods\\llama.dll" "$wmods\\ggml.dll"
mkdir -p "$out/ComfyUI"
cp "$win/module_holder.exe" "$out/ComfyUI/python.exe"
HOLDER="$out/ComfyUI/python.exe" HOLDER_CWD="$out/ComfyUI" \
  detect_holder comfyui comfyui "working-directory" kernel32.dll
echo "windows_e2e: passed"
