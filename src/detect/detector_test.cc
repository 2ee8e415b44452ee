// Fixture /proc trees for every runtime in the signature table (facts: the
// runtimes' sources listed in signatures.cc), scanned by the real scanner and
// classified by the real detector.
#include "detect/detector.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <filesystem>
#include <cstring>

#include "detect/workload_detector.h"
#include "snapshot/snapshot_json.h"
#include "support/fake_proc.h"

namespace memopt::detect {
namespace {

using memopt::testing::FakeListener;
using memopt::testing::FakeProc;
using memopt::testing::FakeProcess;

const std::string kLibc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const std::string kTorch = "/venv/lib/python3.11/site-packages/torch/lib/";

FakeProcess make(int pid, int ppid, std::string comm, std::vector<std::string> argv, std::string exe) {
  FakeProcess p;
  p.pid = pid;
  p.ppid = ppid;
  p.comm = std::move(comm);
  p.argv = std::move(argv);
  p.exe = std::move(exe);
  p.mapped = {kLibc};
  return p;
}

std::vector<Workload> detect_tree(FakeProc& fp, std::vector<ProcessGpuMemory> vram = {},
                                  std::vector<ProbeResult> probes = {}) {
  auto scan = proc::scan_processes(fp.root());
  EXPECT_TRUE(scan.ok());
  return detect_workloads(*scan, vram, probes);
}

const Workload* by_runtime(const std::vector<Workload>& ws, std::string_view rt) {
  for (const auto& w : ws)
    if (w.runtime == rt) return &w;
  return nullptr;
}

bool has_signal(const Workload& w, std::string_view signal, std::string_view detail_part) {
  return std::any_of(w.evidence.begin(), w.evidence.end(), [&](const Evidence& e) {
    return e.signal == signal && e.detail.find(detail_part) != std::string::npos;
  });
}

TEST(CommandView, PeelsThePythonInterpreter) {
  proc::ProcessInfo p;
  p.exe = "/usr/bin/python3.11";
  p.argv = {"python3", "-u", "-X", "utf8", "-m", "vllm.entrypoints.openai.api_server", "--model", "m"};
  CommandView v = command_view(p);
  EXPECT_TRUE(v.python);
  EXPECT_EQ(v.module, "vllm.entrypoints.openai.api_server");
  EXPECT_EQ(v.args, (std::vector<std::string>{"--model", "m"}));
  p.argv = {"/venv/bin/python3", "/venv/bin/vllm", "serve", "Qwen/Qwen2.5-7B-Instruct"};
  v = command_view(p);
  EXPECT_EQ(v.script, "/venv/bin/vllm");
  EXPECT_NE(std::find(v.programs.begin(), v.programs.end(), "vllm"), v.programs.end());
  EXPECT_EQ(model_from_args(v), "Qwen/Qwen2.5-7B-Instruct");
}

TEST(ModelFromArgs, CommonFlags) {
  CommandView v;
  v.args = {"--port", "8080", "-m", "/m/q.gguf"};
  EXPECT_EQ(model_from_args(v), "/m/q.gguf");
  v.args = {"--model-path=Qwen/Qwen2.5"};
  EXPECT_EQ(model_from_args(v), "Qwen/Qwen2.5");
  v.args = {"--port", "1"};
  EXPECT_EQ(model_from_args(v), "");
  v.args = {"-m"};  // flag without value
  EXPECT_EQ(model_from_args(v), "");
}

TEST(ApiKeyFromArgs, TheLastFlagsFirstKey) {
  using V = std::vector<std::string>;
  EXPECT_EQ(api_key_from_args(V{"-m", "m.gguf", "--port", "8080"}), "");
  EXPECT_EQ(api_key_from_args(V{"--api-key", "sk-1"}), "sk-1");
  EXPECT_EQ(api_key_from_args(V{"--api-key=sk-2,sk-3"}), "sk-2");
  EXPECT_EQ(api_key_from_args(V{"--api-key", "a", "-c", "8", "--api-key", "b,c"}), "b");
  EXPECT_EQ(api_key_from_args(V{"--api-key"}), "");            // no value
  EXPECT_EQ(api_key_from_args(V{"--api-key-file", "k.txt"}), "");  // api_key_file_from_args
  // A key no header can carry is not used (a hostile command line must not
  // put a header of its choosing into a request).
  bool unusable = false;
  EXPECT_EQ(api_key_from_args(V{"--api-key", "k\r\nX-Evil: 1"}, &unusable), "");
  EXPECT_TRUE(unusable);
  EXPECT_EQ(api_key_from_args(V{"--api-key", "fine"}, &unusable), "fine");
  EXPECT_FALSE(unusable);
}

// A llama-server started with --api-key: the workload carries the key
// (never in its JSON), and its detected endpoint carries it where this
// process may send it (same user, or root) for the clients that read it.
TEST(DetectLlamaCpp, AServersApiKeyGoesWithItsEndpoint) {
  FakeProc fp;
  auto server = make(100, 1, "llama-server",
                     {"./llama-server", "-m", "/models/q.gguf", "--port", "9191", "--api-key",
                      "sk-9191,sk-alt"},
                     "/opt/llama.cpp/build/bin/llama-server");
  server.uid = static_cast<uint32_t>(::geteuid());
  server.mapped = {kLibc, "/opt/llama.cpp/build/bin/libllama.so"};
  server.open_files = {"socket:[900]"};
  fp.add(server);
  fp.add_listener({"0100007F", 9191, 900, false});
  fp.write_net();
  auto ws = detect_tree(fp);
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].api_key, "sk-9191");
  EXPECT_EQ(snapshot::to_json(ws[0]).dump().find("sk-9191"), std::string::npos);
  const auto eps = detected_runtime_endpoints(fp.root(), false);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].url.port, 9191);
  EXPECT_EQ(eps[0].key, "sk-9191");
}

// A key in the environment: llama-server reads LLAMA_API_KEY and vLLM
// VLLM_API_KEY when no --api-key is given (the flag wins in both);
// llama-server's is a comma-separated list, vLLM's one key. Only the
// runtime's own variable counts.
TEST(ApiKeyFor, TheRuntimesVariableInItsOrder) {
  using V = std::vector<std::string>;
  using E = std::vector<std::pair<std::string, std::string>>;
  const auto* llama = runtimes::find_runtime("llama.cpp");
  const auto* vllm = runtimes::find_runtime("vllm");
  const auto* ollama = runtimes::find_runtime("ollama");
  ASSERT_TRUE(llama && vllm && ollama);
  EXPECT_EQ(api_key_for(V{"-m", "q.gguf"}, E{{"LLAMA_API_KEY", "env-1,env-2"}}, llama), "env-1");
  EXPECT_EQ(api_key_for(V{"--api-key", "flag"}, E{{"LLAMA_API_KEY", "env"}}, llama), "flag");
  EXPECT_EQ(api_key_for(V{"--api-key", "flag"}, E{{"VLLM_API_KEY", "env"}}, vllm), "flag");
  EXPECT_EQ(api_key_for(V{}, E{{"VLLM_API_KEY", "v-1,v-2"}}, vllm), "v-1,v-2");
  // A repeated name: its first value.
  EXPECT_EQ(api_key_for(V{}, E{{"LLAMA_API_KEY", "one"}, {"LLAMA_API_KEY", "two"}}, llama), "one");
  // Another runtime's variable, or a runtime that has none: not a key.
  EXPECT_EQ(api_key_for(V{}, E{{"VLLM_API_KEY", "v"}}, llama), "");
  EXPECT_EQ(api_key_for(V{}, E{{"LLAMA_API_KEY", "l"}}, ollama), "");
  EXPECT_EQ(api_key_for(V{}, E{{"LLAMA_API_KEY", "l"}}, nullptr), "");
  // A value no header can carry is not used; the other source still is.
  bool unusable = false;
  EXPECT_EQ(api_key_for(V{}, E{{"LLAMA_API_KEY", "a\r\nX: 1"}}, llama, &unusable), "");
  EXPECT_TRUE(unusable);
  EXPECT_EQ(api_key_for(V{"--api-key", "b d"}, E{{"LLAMA_API_KEY", "ok"}}, llama, &unusable), "ok");
  EXPECT_FALSE(unusable);
}

// This process's own environment: what a server it starts inherits (the
// gateway's backends), and what a user exports for a server named by an
// endpoint option.
TEST(InheritedApiKey, ThisProcesssEnvironmentAsTheRuntimeReadsIt) {
  using V = std::vector<std::string>;
  const auto* llama = runtimes::find_runtime("llama.cpp");
  const auto* vllm = runtimes::find_runtime("vllm");
  const auto* ollama = runtimes::find_runtime("ollama");
  ASSERT_TRUE(llama && vllm && ollama);
  ::setenv("LLAMA_API_KEY", "own-1,own-2", 1);
  ::setenv("VLLM_API_KEY", "team,key", 1);
  EXPECT_EQ(inherited_api_key(V{}, llama), "own-1");
  EXPECT_EQ(inherited_api_key(V{"-m", "q.gguf", "--api-key", "flag"}, llama), "flag");
  EXPECT_EQ(inherited_api_key(V{}, vllm), "team,key");  // vLLM: one key, commas and all
  EXPECT_EQ(inherited_api_key(V{}, ollama), "");        // Ollama asks for none
  EXPECT_EQ(inherited_api_key(V{}, nullptr), "");
  ::setenv("LLAMA_API_KEY", "two words", 1);
  bool unusable = false;
  EXPECT_EQ(inherited_api_key(V{}, llama, &unusable), "");
  EXPECT_TRUE(unusable);
  ::unsetenv("LLAMA_API_KEY");
  ::unsetenv("VLLM_API_KEY");
  EXPECT_EQ(inherited_api_key(V{}, llama, &unusable), "");
  EXPECT_FALSE(unusable);
}

// The scan reads the variable from a server's environment (the way to keep
// a key out of the process list): the endpoint carries it.
TEST(DetectLlamaCpp, AKeyInTheServersEnvironmentGoesWithItsEndpoint) {
  FakeProc fp;
  auto server = make(100, 1, "llama-server",
                     {"./llama-server", "-m", "/models/q.gguf", "--port", "9192"},
                     "/opt/llama.cpp/build/bin/llama-server");
  server.uid = static_cast<uint32_t>(::geteuid());
  server.mapped = {kLibc, "/opt/llama.cpp/build/bin/libllama.so"};
  server.open_files = {"socket:[901]"};
  server.environment = {"HOME=/home/u", "LLAMA_API_KEY=sk-env-9192", "OPENAI_API_KEY=sk-other"};
  fp.add(server);
  fp.add_listener({"0100007F", 9192, 901, false});
  fp.write_net();
  const auto eps = detected_runtime_endpoints(fp.root(), false);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].url.port, 9192);
  EXPECT_EQ(eps[0].key, "sk-env-9192");
  DetectorOptions o;
  o.proc_root = fp.root();
  o.probe_ports = false;
  o.full_scan = false;  // as ai status and the daemon scan
  auto d = AIWorkloadDetector(o).detect();
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->workloads.size(), 1u);
  EXPECT_EQ(d->workloads[0].api_key, "sk-env-9192");
  EXPECT_EQ(snapshot::to_json(d->workloads[0]).dump().find("sk-env"), std::string::npos);
}

// llama-server --api-key-file: the file's first key, read as the server's
// user; one that cannot be read is said in the workload's note.
TEST(DetectLlamaCpp, AKeyFileGivesTheKeyOrSaysWhyNot) {
  namespace fs = std::filesystem;
  FakeProc fp;
  const fs::path dir = fs::path(fp.root()) / "srv";
  fs::create_directories(dir);
  // The first key a header can carry (llama-server takes every line).
  std::ofstream(dir / "keys.txt") << "bad key\nsk-from-file\nsk-second\n";
  fs::create_symlink("/etc/shadow", dir / "evil.txt");
  auto server = make(100, 1, "llama-server",
                     {"./llama-server", "-m", "/models/q.gguf", "--port", "9193",
                      "--api-key-file", "keys.txt"},
                     "/opt/llama.cpp/build/bin/llama-server");
  server.uid = static_cast<uint32_t>(::geteuid());
  server.cwd = dir.string();
  server.mapped = {kLibc, "/opt/llama.cpp/build/bin/libllama.so"};
  server.open_files = {"socket:[902]"};
  fp.add(server);
  auto other = server;
  other.pid = 200;
  other.argv = {"./llama-server", "-m", "/models/r.gguf", "--port", "9194",
                "--api-key-file=evil.txt"};
  other.open_files = {"socket:[903]"};
  fp.add(other);
  fp.add_listener({"0100007F", 9193, 902, false});
  fp.add_listener({"0100007F", 9194, 903, false});
  fp.write_net();
  const auto eps = detected_runtime_endpoints(fp.root(), false);
  ASSERT_EQ(eps.size(), 2u);
  for (const auto& e : eps) EXPECT_EQ(e.key, e.url.port == 9193 ? "sk-from-file" : "") << e.url.port;
  DetectorOptions o;
  o.proc_root = fp.root();
  o.probe_ports = false;
  auto d = AIWorkloadDetector(o).detect();
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->workloads.size(), 2u);
  EXPECT_EQ(d->workloads[0].api_key, "sk-from-file");
  EXPECT_EQ(d->workloads[0].note, "");
  EXPECT_EQ(d->workloads[1].api_key, "");
  EXPECT_EQ(d->workloads[1].note,
            "--api-key-file evil.txt: a symbolic link (not followed): its API is not read");
  EXPECT_EQ(snapshot::to_json(d->workloads[0]).dump().find("sk-from"), std::string::npos);

  // Another user's server: as root its file is not read (the path would be
  // resolved with root's rights), and the note says how to give the key;
  // as another user nothing is read and nothing is said (its key would not
  // be sent).
  FakeProc fp2;
  const fs::path dir2 = fs::path(fp2.root()) / "srv";
  fs::create_directories(dir2);
  std::ofstream(dir2 / "keys.txt") << "sk-theirs\n";
  auto theirs = server;
  theirs.uid = static_cast<uint32_t>(::geteuid()) + 4242;
  theirs.cwd = dir2.string();
  fp2.add(theirs);
  fp2.add_listener({"0100007F", 9193, 902, false});
  fp2.write_net();
  o.proc_root = fp2.root();
  d = AIWorkloadDetector(o).detect();
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->workloads.size(), 1u);
  EXPECT_EQ(d->workloads[0].api_key, "");
  EXPECT_EQ(d->workloads[0].note,
            ::geteuid() == 0
                ? "--api-key-file keys.txt: not read as root (a key file is read only as the "
                  "server's user: run as uid 4242, or give the key in LLAMA_API_KEY): its API "
                  "is not read"
                : "");
}

// A repeated option counts as the server takes it: the last one.
TEST(FlagValue, TheLastOfAnyOfTheFlags) {
  using V = std::vector<std::string>;
  EXPECT_EQ(flag_value(V{"-c", "4096", "--ctx-size=8192"}, {"-c", "--ctx-size"}), "8192");
  EXPECT_EQ(flag_value(V{"--ctx-size=8192", "-c", "2048"}, {"-c", "--ctx-size"}), "2048");
  EXPECT_EQ(flag_value(V{"-c=5"}, {"-c"}), std::nullopt);  // "=" only with "--" flags
  EXPECT_EQ(flag_value(V{"-c"}, {"-c"}), std::nullopt);    // no value
  EXPECT_EQ(flag_value(V{"--api-key", "--api-key"}, {"--api-key"}), "--api-key");  // a value
  CommandView v;
  v.args = {"-m", "a.gguf", "-c", "1024", "-m", "b.gguf", "-c", "99999999999"};
  EXPECT_EQ(model_from_args(v), "b.gguf");
  EXPECT_EQ(context_from_args(v), 0u);  // the last -c is out of range: no setting
}

TEST(ApiKeyFileFromArgs, TheLastFlag) {
  using V = std::vector<std::string>;
  EXPECT_EQ(api_key_file_from_args(V{"--api-key", "k"}), "");
  EXPECT_EQ(api_key_file_from_args(V{"--api-key-file", "a", "--api-key-file=b"}), "b");
  EXPECT_EQ(api_key_file_from_args(V{"--api-key-file"}), "");
}

TEST(DetectOllama, ServerAndBundledLlamaServerAreOneWorkload) {
  FakeProc fp;
  auto serve = make(1200, 1, "ollama", {"/usr/local/bin/ollama", "serve"}, "/usr/local/bin/ollama");
  serve.uid = 998;
  serve.rss_kb = 50000;
  serve.open_files = {"socket:[4242]"};
  fp.add(serve);
  const std::string blob = "/usr/share/ollama/.ollama/models/blobs/sha256-6a0746a1ec1aef3e7ec53868f220ff6e";
  auto child = make(1300, 1200, "llama-server",
                    {"/usr/local/lib/ollama/llama-server", "--model", blob, "--port", "41234", "--host",
                     "127.0.0.1", "--no-webui", "--offline", "-c", "8192", "-np", "1"},
                    "/usr/local/lib/ollama/llama-server");
  child.rss_kb = 900000;
  child.mapped = {kLibc, "/usr/local/lib/ollama/libggml-base.so", "/usr/local/lib/ollama/cuda_v12/libggml-cuda.so",
                  "/usr/lib/x86_64-linux-gnu/libcuda.so.1", blob};
  child.open_files = {"socket:[5555]", "/dev/nvidia0"};
  fp.add(child);
  fp.add_listener({"0100007F", 11434, 4242, false});
  fp.add_listener({"0100007F", 41234, 5555, false});
  fp.write_net();

  auto ws = detect_tree(fp, {{1300, 0, 4ull << 30}});
  ASSERT_EQ(ws.size(), 1u);
  const Workload& w = ws[0];
  EXPECT_EQ(w.runtime, "ollama");
  EXPECT_EQ(w.pid, 1200);
  EXPECT_EQ(w.pids, (std::vector<int>{1200, 1300}));
  EXPECT_EQ(w.endpoint, "http://127.0.0.1:11434");  // not the runner's internal port
  EXPECT_EQ(w.model_files, std::vector<std::string>{blob});
  EXPECT_EQ(w.model, "sha256-6a0746a1ec1aef3e7ec53868f220ff6e");  // named by the collector from manifests
  EXPECT_EQ(w.vram_bytes, 4ull << 30);
  ASSERT_EQ(w.vram.size(), 1u);
  EXPECT_EQ(w.rss_bytes, (50000ull + 900000ull) * 1024);
  EXPECT_EQ(w.accelerators, std::vector<std::string>{"CUDA"});
  EXPECT_TRUE(has_signal(w, "command", "ollama serve"));
  EXPECT_TRUE(has_signal(w, "executable-path", "/lib/ollama/"));
  EXPECT_EQ(by_runtime(ws, "llama.cpp"), nullptr);
}

TEST(DetectOllama, OlderRunnersAndOrphanedRunner) {
  FakeProc fp;
  fp.add(make(10, 1, "ollama", {"ollama", "serve"}, "/usr/bin/ollama"));
  auto runner = make(11, 10, "ollama", {"/usr/bin/ollama", "runner", "--ollama-engine", "--model", "/m/blobs/sha256-aa", "--port", "3333"},
                     "/usr/bin/ollama");
  fp.add(runner);
  auto old = make(12, 10, "ollama_llama_se", {"/tmp/ollama123/runners/cuda_v11/ollama_llama_server", "--model", "/m/blobs/sha256-bb"},
                  "/tmp/ollama123/runners/cuda_v11/ollama_llama_server");
  fp.add(old);
  // A runner whose server we cannot see (its parent is outside this tree).
  fp.add(make(40, 39, "ollama", {"/usr/bin/ollama", "runner", "--model", "/m/blobs/sha256-cc"}, "/usr/bin/ollama"));
  auto ws = detect_tree(fp);
  ASSERT_EQ(ws.size(), 2u);
  EXPECT_EQ(ws[0].runtime, "ollama");
  EXPECT_EQ(ws[0].pids, (std::vector<int>{10, 11, 12}));
  EXPECT_EQ(ws[1].runtime, "ollama");
  EXPECT_EQ(ws[1].pids, std::vector<int>{40});
  EXPECT_EQ(ws[1].model, "sha256-cc");
}

TEST(DetectLlamaCpp, ServerCliAndEmbedders) {
  FakeProc fp;
  auto server = make(100, 1, "llama-server", {"./llama-server", "-m", "/models/qwen2.5-7b-q4_k_m.gguf", "--port", "8080"},
                     "/opt/llama.cpp/build/bin/llama-server");
  server.mapped = {kLibc, "/opt/llama.cpp/build/bin/libllama.so", "/opt/llama.cpp/build/bin/libggml-cuda.so",
                   "/models/qwen2.5-7b-q4_k_m.gguf"};
  server.open_files = {"socket:[700]"};
  fp.add(server);
  auto node = make(200, 1, "node", {"node", "app.js"}, "/usr/bin/node");
  const std::string nb = "/app/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/";
  node.mapped = {kLibc, nb + "libllama.v0.4.0.so", nb + "libggml.v0.4.0.so", nb + "libggml-base.so",
                 "/app/models/tiny.gguf"};
  fp.add(node);
  auto lms = make(300, 1, "llmworker", {"/home/u/.lmstudio/bin/llmworker"}, "/home/u/.lmstudio/bin/llmworker");
  lms.mapped = {kLibc, "/home/u/.lmstudio/extensions/backends/llama.cpp-linux-x86_64-nvidia-cuda12-avx2-1.52.0/libllama.so"};
  fp.add(lms);
  auto kobold = make(400, 1, "koboldcpp", {"./koboldcpp", "--model", "/m/mistral.gguf"}, "/opt/koboldcpp");
  kobold.mapped = {kLibc, "/tmp/_MEIab12cd/koboldcpp_cublas.so"};
  fp.add(kobold);
  auto lf = make(500, 1, "mistral-7b.llam", {"./mistral-7b.llamafile", "--server"}, "/home/u/mistral-7b.llamafile");
  lf.mapped = {kLibc, "/home/u/.llamafile/v/0.9.3/ggml-cuda.so"};
  fp.add(lf);
  fp.add_listener({"00000000", 8080, 700, false});
  fp.write_net();
  auto ws = detect_tree(fp);
  ASSERT_EQ(ws.size(), 5u);
  // LM Studio's engine worker is LM Studio (its own server API), which also
  // embeds llama.cpp; the others are llama.cpp in its many wrappers.
  for (const auto& w : ws) EXPECT_EQ(w.runtime, w.pid == 300 ? "lmstudio" : "llama.cpp") << w.pid;
  EXPECT_EQ(ws[0].model, "qwen2.5-7b-q4_k_m.gguf");
  EXPECT_EQ(ws[0].endpoint, "http://127.0.0.1:8080");
  EXPECT_EQ(ws[0].flavor, "");
  EXPECT_EQ(ws[0].accelerators, std::vector<std::string>{"CUDA"});
  EXPECT_EQ(ws[1].flavor, "node-llama-cpp");
  EXPECT_EQ(ws[1].model, "tiny.gguf");
  EXPECT_EQ(ws[1].model_files, std::vector<std::string>{"/app/models/tiny.gguf"});
  EXPECT_EQ(ws[2].runtime_name, "LM Studio");
  EXPECT_EQ(ws[2].also, std::vector<std::string>{"llama.cpp"});
  EXPECT_EQ(ws[3].flavor, "koboldcpp");
  EXPECT_EQ(ws[3].accelerators, std::vector<std::string>{"CUDA"});
  EXPECT_EQ(ws[4].flavor, "llamafile");
}

TEST(DetectVllm, ApiServerAndEngineCoreChildOneWorkload) {
  FakeProc fp;
  auto api = make(1000, 1, "python3", {"python3", "-m", "vllm.entrypoints.openai.api_server", "--model",
                                       "Qwen/Qwen2.5-7B-Instruct", "--port", "8000"},
                  "/usr/bin/python3.11");
  api.mapped = {kLibc, kTorch + "libtorch_cpu.so", kTorch + "libtorch_cuda.so"};
  api.open_files = {"socket:[800]"};
  fp.add(api);
  auto core = make(1001, 1000, "VLLM::EngineCor", {"VLLM::EngineCore"}, "/usr/bin/python3.11");
  core.mapped = {kLibc, kTorch + "libtorch_cuda.so", kTorch + "libc10_cuda.so",
                 "/venv/lib/python3.11/site-packages/vllm/_C.abi3.so"};
  core.open_files = {"/dev/nvidiactl", "/dev/nvidia0",
                     "/h/.cache/huggingface/hub/models--Qwen--Qwen2.5-7B-Instruct/snapshots/a1/model-00001-of-00004.safetensors"};
  fp.add(core);
  fp.add_listener({"00000000", 8000, 800, false});
  fp.write_net();
  auto ws = detect_tree(fp, {{1001, 0, 20ull << 30}});
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].runtime, "vllm");
  EXPECT_EQ(ws[0].pids, (std::vector<int>{1000, 1001}));
  EXPECT_EQ(ws[0].model, "Qwen/Qwen2.5-7B-Instruct");
  EXPECT_EQ(ws[0].vram_bytes, 20ull << 30);
  EXPECT_EQ(ws[0].endpoint, "http://127.0.0.1:8000");
  EXPECT_EQ(ws[0].also, std::vector<std::string>{"PyTorch"});
  EXPECT_EQ(ws[0].model_files.size(), 1u);
  EXPECT_TRUE(has_signal(ws[0], "python-module", "vllm.entrypoints"));
  EXPECT_TRUE(has_signal(ws[0], "process-title", "VLLM::EngineCor"));
}

TEST(DetectVllm, ConsoleScriptServe) {
  FakeProc fp;
  fp.add(make(7, 1, "vllm", {"/venv/bin/python3", "/venv/bin/vllm", "serve", "meta-llama/Llama-3.1-8B"},
              "/usr/bin/python3.12"));
  auto ws = detect_tree(fp);
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].runtime, "vllm");
  EXPECT_EQ(ws[0].model, "meta-llama/Llama-3.1-8B");
}

TEST(DetectSglangAndTgi, ServersWithTheirWorkers) {
  FakeProc fp;
  fp.add(make(20, 1, "python", {"python", "-m", "sglang.launch_server", "--model-path", "qwen/qwen2.5-0.5b-instruct"},
              "/usr/bin/python3"));
  fp.add(make(21, 20, "sglang::schedul", {"sglang::scheduler_TP0"}, "/usr/bin/python3"));
  fp.add(make(22, 20, "sglang::detoken", {"sglang::detokenizer"}, "/usr/bin/python3"));
  fp.add(make(30, 1, "text-generation", {"text-generation-launcher", "--model-id", "meta-llama/Llama-3.1-8B-Instruct"},
              "/usr/local/bin/text-generation-launcher"));
  fp.add(make(31, 30, "text-generation", {"text-generation-router", "--port", "3000"}, "/usr/local/bin/text-generation-router"));
  fp.add(make(32, 30, "text-generation", {"/opt/conda/bin/python3", "/opt/conda/bin/text-generation-server", "serve",
                                          "meta-llama/Llama-3.1-8B-Instruct", "--uds-path", "/tmp/text-generation-server-0"},
              "/opt/conda/bin/python3.11"));
  auto ws = detect_tree(fp, {{32, 0, 18ull << 30}, {21, 1, 10ull << 30}});
  ASSERT_EQ(ws.size(), 2u);
  const Workload* sg = by_runtime(ws, "sglang");
  ASSERT_NE(sg, nullptr);
  EXPECT_EQ(sg->pids, (std::vector<int>{20, 21, 22}));
  EXPECT_EQ(sg->model, "qwen/qwen2.5-0.5b-instruct");
  EXPECT_EQ(sg->vram.size(), 1u);
  EXPECT_EQ(sg->vram[0].gpu_index, 1u);
  const Workload* tgi = by_runtime(ws, "tgi");
  ASSERT_NE(tgi, nullptr);
  EXPECT_EQ(tgi->pids, (std::vector<int>{30, 31, 32}));
  EXPECT_EQ(tgi->model, "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(tgi->vram_bytes, 18ull << 30);
}

TEST(DetectFrameworks, PythonMappingTorchAndOnnxRuntime) {
  FakeProc fp;
  auto p = make(50, 1, "python3", {"python3", "infer.py"}, "/usr/bin/python3.11");
  const std::string ort = "/venv/lib/python3.11/site-packages/onnxruntime/capi/";
  p.mapped = {kLibc, kTorch + "libtorch_cpu.so", kTorch + "libtorch_cuda.so", kTorch + "libc10_cuda.so",
              ort + "onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so",
              ort + "libonnxruntime_providers_shared.so", ort + "libonnxruntime_providers_cuda.so"};
  p.open_files = {"/srv/models/encoder.onnx"};
  fp.add(p);
  auto onnx_only = make(60, 1, "detector", {"./detector"}, "/opt/app/detector");
  onnx_only.mapped = {kLibc, "/opt/app/lib/libonnxruntime.so.1.20.1",
                      "/opt/app/lib/libonnxruntime_providers_tensorrt.so"};
  fp.add(onnx_only);
  auto ws = detect_tree(fp);
  ASSERT_EQ(ws.size(), 2u);
  EXPECT_EQ(ws[0].runtime, "pytorch");
  EXPECT_EQ(ws[0].also, std::vector<std::string>{"ONNX Runtime"});
  EXPECT_EQ(ws[0].accelerators, (std::vector<std::string>{"CUDA", "ONNX Runtime CUDA EP"}));
  EXPECT_EQ(ws[0].model, "encoder.onnx");
  EXPECT_EQ(ws[1].runtime, "onnxruntime");
  EXPECT_EQ(ws[1].accelerators, std::vector<std::string>{"ONNX Runtime TensorRT EP"});
  EXPECT_TRUE(has_signal(ws[1], "library", "libonnxruntime.so.1.20.1"));
}

TEST(DetectMedia, WhisperStableDiffusionComfyUi) {
  FakeProc fp;
  auto ws_cpp = make(70, 1, "whisper-server", {"whisper-server", "-m", "/models/ggml-base.en.bin"}, "/usr/local/bin/whisper-server");
  ws_cpp.mapped = {kLibc, "/usr/local/lib/libwhisper.so.1", "/usr/local/lib/libggml.so"};
  fp.add(ws_cpp);
  auto fw = make(71, 1, "python3", {"python3", "transcribe.py"}, "/usr/bin/python3");
  fw.mapped = {kLibc, "/venv/lib/python3.11/site-packages/ctranslate2.libs/libctranslate2-a1b2c3d4.so.4.5.0"};
  fp.add(fw);
  fp.add(make(72, 1, "whisper", {"/usr/bin/python3", "/venv/bin/whisper", "audio.mp3", "--model", "turbo"}, "/usr/bin/python3.11"));
  auto a1111 = make(80, 1, "python3", {"python3", "launch.py", "--api"}, "/usr/bin/python3.10");
  a1111.cwd = "/home/u/stable-diffusion-webui";
  a1111.mapped = {kLibc, kTorch + "libtorch_cuda.so"};
  a1111.open_files = {"/home/u/stable-diffusion-webui/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors"};
  fp.add(a1111);
  auto forge = make(81, 1, "python", {"python", "/opt/stable-diffusion-webui-forge/launch.py"}, "/usr/bin/python3.10");
  fp.add(forge);
  auto sdcpp = make(82, 1, "sd-server", {"sd-server", "-m", "/m/sd-v1-4.gguf"}, "/usr/local/bin/sd-server");
  sdcpp.mapped = {kLibc, "/usr/local/lib/libggml.so"};
  fp.add(sdcpp);
  auto comfy = make(90, 1, "python", {"python", "main.py", "--listen"}, "/usr/bin/python3.12");
  comfy.cwd = "/home/u/ComfyUI";
  comfy.mapped = {kLibc, kTorch + "libtorch_cuda.so"};
  fp.add(comfy);
  auto ws = detect_tree(fp);
  ASSERT_EQ(ws.size(), 7u);
  EXPECT_EQ(ws[0].runtime, "whisper");
  EXPECT_EQ(ws[0].flavor, "whisper.cpp");
  EXPECT_EQ(ws[0].also, std::vector<std::string>{"llama.cpp"});  // it maps libggml too
  EXPECT_EQ(ws[1].runtime, "whisper");
  EXPECT_EQ(ws[1].flavor, "faster-whisper (CTranslate2)");
  EXPECT_EQ(ws[2].runtime, "whisper");
  EXPECT_EQ(ws[2].flavor, "openai-whisper");
  EXPECT_EQ(ws[2].model, "turbo");
  EXPECT_EQ(ws[3].runtime, "stable-diffusion");
  EXPECT_EQ(ws[3].flavor, "AUTOMATIC1111");
  EXPECT_EQ(ws[3].also, std::vector<std::string>{"PyTorch"});
  EXPECT_EQ(ws[3].model, "v1-5-pruned-emaonly.safetensors");
  EXPECT_EQ(ws[4].runtime, "stable-diffusion");
  EXPECT_EQ(ws[4].flavor, "Forge");
  EXPECT_EQ(ws[5].runtime, "stable-diffusion");
  EXPECT_EQ(ws[5].flavor, "sd.cpp");
  EXPECT_EQ(ws[6].runtime, "comfyui");
}

TEST(DetectDirectMl, ReportedWithItsPlatformNote) {
  FakeProc fp;
  auto p = make(5, 1, "python3", {"python3", "app.py"}, "/usr/bin/python3");
  p.mapped = {kLibc, "/usr/lib/wsl/lib/libdirectml.so"};
  fp.add(p);
  auto ws = detect_tree(fp);
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].runtime, "directml");
  EXPECT_NE(ws[0].note.find("Windows only"), std::string::npos);
}

TEST(DetectNegatives, GenericNamesShellsZombiesAndContainers) {
  FakeProc fp;
  fp.add(make(2, 0, "server", {"/usr/sbin/server", "--main"}, "/usr/sbin/server"));
  fp.add(make(3, 1, "main", {"./main"}, "/home/u/main"));
  fp.add(make(4, 1, "llama-server-mon", {"llama-server-monitor"}, "/usr/bin/llama-server-monitor"));
  auto shell = make(6, 1, "bash", {"-bash"}, "/usr/bin/bash");
  shell.cwd = "/home/u/ComfyUI";  // a shell in ComfyUI's folder is not ComfyUI
  fp.add(shell);
  auto monitor = make(8, 1, "nvtop", {"nvtop"}, "/usr/bin/nvtop");
  monitor.mapped = {kLibc, "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"};
  fp.add(monitor);
  auto http = make(9, 1, "python3", {"python3", "-m", "http.server", "8000"}, "/usr/bin/python3");
  http.open_files = {"socket:[900]"};
  fp.add(http);
  FakeProcess zombie = make(11, 1, "ollama", {}, "");
  zombie.state = 'Z';
  fp.add(zombie);
  auto boxed = make(12, 1, "llama-server", {"llama-server", "-m", "/models/a.gguf"}, "/app/llama-server");
  boxed.cgroup = "0::/system.slice/docker-" + std::string(64, 'c') + ".scope\n";
  fp.add(boxed);
  fp.add_listener({"00000000", 8000, 900, false});
  fp.write_net();
  auto scan = proc::scan_processes(fp.root());
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(plan_probes(*scan).empty());  // a bare port is never probed, never trusted
  auto ws = detect_workloads(*scan, {});
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].pid, 12);
  EXPECT_EQ(ws[0].container_id, std::string(64, 'c'));
}

TEST(DetectProbes, AmbiguousPortConfirmedByHttpProbe) {
  FakeProc fp;
  auto p = make(77, 1, "python3", {"python3", "serve_model.py"}, "/usr/bin/python3");
  p.mapped = {kLibc, kTorch + "libtorch_cpu.so"};
  p.open_files = {"socket:[1234]"};
  fp.add(p);
  fp.add_listener({"00000000", 8000, 1234, false});
  fp.write_net();
  auto scan = proc::scan_processes(fp.root());
  ASSERT_TRUE(scan.ok());
  auto reqs = plan_probes(*scan);
  ASSERT_FALSE(reqs.empty());
  auto vllm = std::find_if(reqs.begin(), reqs.end(), [](const ProbeRequest& r) { return r.runtime == "vllm"; });
  ASSERT_NE(vllm, reqs.end());
  EXPECT_EQ(vllm->host, "127.0.0.1");
  EXPECT_EQ(vllm->port, 8000);
  EXPECT_EQ(vllm->path, "/metrics");
  EXPECT_LE(reqs.size(), 8u);
  // Unconfirmed: stays a PyTorch workload with an unconfirmed endpoint.
  auto ws = detect_workloads(*scan, {});
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].runtime, "pytorch");
  EXPECT_FALSE(ws[0].endpoint_confirmed);
  // Confirmed: the probe's answer makes it vLLM.
  std::vector<ProbeResult> answers = {{77, 8000, "vllm", "/metrics", true}};
  ws = detect_workloads(*scan, {}, answers);
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].runtime, "vllm");
  EXPECT_TRUE(ws[0].endpoint_confirmed);
  EXPECT_TRUE(has_signal(ws[0], "http-probe", ":8000/metrics"));
}

TEST(DetectOther, NonAiVramHoldersListedLargestFirst) {
  FakeProc fp;
  fp.add(make(100, 1, "Xorg", {"/usr/lib/xorg/Xorg"}, "/usr/lib/xorg/Xorg"));
  fp.add(make(101, 1, "firefox", {"/usr/lib/firefox/firefox"}, "/usr/lib/firefox/firefox"));
  auto ws = detect_tree(fp, {{100, 0, 300ull << 20}, {101, 0, 1900ull << 20}, {4242, 0, 100ull << 20}});
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(ws[0].runtime, "other");
  EXPECT_EQ(ws[0].runtime_name, "firefox");
  EXPECT_EQ(ws[0].vram_bytes, 1900ull << 20);
  EXPECT_EQ(ws[1].runtime_name, "Xorg");
  EXPECT_EQ(ws[2].runtime_name, "pid 4242");  // NVML host pid not visible here
}

TEST(DetectHostile, PpidCycleAndVanishedPidDoNotHang) {
  FakeProc fp;
  auto a = make(300, 301, "ollama", {"ollama", "serve"}, "/usr/bin/ollama");
  auto b = make(301, 300, "python3", {"python3", "x.py"}, "/usr/bin/python3");
  b.mapped = {kLibc, kTorch + "libtorch_cuda.so"};
  fp.add(a);
  fp.add(b);
  fp.write_file("302/cmdline", "gone");  // vanished: no status
  auto ws = detect_tree(fp, {{303, 0, 1}});
  // b is adopted by the Ollama server (a server adopts children); the cycle ends the walk.
  ASSERT_GE(ws.size(), 1u);
  EXPECT_EQ(ws[0].runtime, "ollama");
}

}  // namespace
}  // namespace memopt::detect
