// The collector on fixture trees with fake sources: GPU readings, model
// reader and runtime answers are parameters, so everything it joins is
// checked without a GPU or a running runtime.
#include "detect/workload_detector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "detect/detector.h"
#include "support/fake_proc.h"

namespace memopt::detect {
namespace {

namespace fs = std::filesystem;
using memopt::testing::FakeProc;
using memopt::testing::FakeProcess;

const char* kMeminfo = "MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n";

TEST(OllamaBlobName, FromTheManifestThatNamesTheBlob) {
  FakeProc fp;  // just a temporary directory here
  std::string models = fp.root() + "/ollama-models";
  std::string digest = "6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa";
  fs::create_directories(models + "/blobs");
  std::ofstream(models + "/blobs/sha256-" + digest) << "GGUF";
  fp.write_file("ollama-models/manifests/registry.ollama.ai/library/qwen2/7b",
                R"({"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:)" +
                    digest + R"(","size":4}]})");
  fp.write_file("ollama-models/manifests/registry.ollama.ai/library/other/latest",
                R"({"layers":[{"mediaType":"application/vnd.ollama.image.license","digest":"sha256:)" + digest +
                    R"("}]})");
  fp.write_file("ollama-models/manifests/hf.co/bartowski/Llama-3.2-1B-GGUF/Q4_K_M",
                R"({"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:bbbb"}]})");
  fp.write_file("ollama-models/manifests/registry.ollama.ai/library/broken/latest", "{not json");
  EXPECT_EQ(ollama_model_name_for_blob(models + "/blobs/sha256-" + digest), "qwen2:7b");
  EXPECT_EQ(ollama_model_name_for_blob(models + "/blobs/sha256-bbbb"), "hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M");
  EXPECT_EQ(ollama_model_name_for_blob(models + "/blobs/sha256-cccc"), "");
  EXPECT_EQ(ollama_model_name_for_blob("/nonexistent/blobs/sha256-dd"), "");
  EXPECT_EQ(ollama_model_name_for_blob(models + "/elsewhere/model.gguf"), "");
}

TEST(AIWorkloadDetector, SnapshotJoinsGpusModelsRuntimesAndWarnings) {
  FakeProc fp;
  fp.write_file("meminfo", kMeminfo);
  FakeProcess serve;
  serve.pid = 1200;
  serve.comm = "ollama";
  serve.argv = {"/usr/bin/ollama", "serve"};
  serve.exe = "/usr/bin/ollama";
  serve.open_files = {"socket:[4242]"};
  fp.add(serve);
  FakeProcess runner;
  runner.pid = 1300;
  runner.ppid = 1200;
  runner.comm = "llama-server";
  const std::string blob = "/var/lib/ollama/models/blobs/sha256-abc";
  runner.argv = {"/usr/lib/ollama/llama-server", "--model", blob, "-c", "8192"};
  runner.exe = "/usr/lib/ollama/llama-server";
  runner.mapped = {"/usr/lib/ollama/libggml-base.so", blob};
  runner.cgroup = "0::/system.slice/docker-" + std::string(64, 'd') + ".scope\n";
  fp.add(runner);
  FakeProcess firefox;
  firefox.pid = 2000;
  firefox.comm = "firefox";
  firefox.argv = {"/usr/lib/firefox/firefox"};
  firefox.exe = "/usr/lib/firefox/firefox";
  fp.add(firefox);
  fp.add_listener({"0100007F", 11434, 4242, false});
  fp.write_net();

  DetectorOptions o;
  o.proc_root = fp.root();
  o.probe_ports = false;
  o.read_gpus = [] {
    GpuReading g;
    g.backend = "nvml";
    g.devices = {{0, "RTX 4090", "nvidia", 24ull << 30, 9ull << 30}};
    g.processes = {{1300, 0, 6ull << 30}, {2000, 0, 1900ull << 20}};
    return g;
  };
  o.read_model = [&](const std::string& path) -> Result<gguf::ModelInfo> {
    EXPECT_EQ(path, blob);
    gguf::ModelInfo m;
    m.path = path;
    m.architecture = "qwen2";
    m.block_count = 28;
    m.file_type_name = "Q4_K_M";
    return m;
  };
  uint64_t asked_ctx = 0;
  o.estimate_model = [&](const gguf::ModelInfo&, uint64_t ctx, bool on_gpu) -> std::optional<WorkloadEstimate> {
    asked_ctx = ctx;
    EXPECT_TRUE(on_gpu);
    return WorkloadEstimate{ctx, 4ull << 30, 448ull << 20, 5ull << 30};
  };
  o.read_loaded_models = [](const Workload& w) {
    EXPECT_EQ(w.endpoint, "http://127.0.0.1:11434");
    LoadedModel m;
    m.runtime = "ollama";
    m.name = "qwen2:7b";
    m.endpoint = w.endpoint;
    m.size_bytes = 10ull << 30;
    m.vram_bytes = 7ull << 30;
    return std::vector<LoadedModel>{m};
  };
  AIWorkloadDetector d(o);
  auto s = d.snapshot();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->host.total_bytes, 16ull << 30);
  ASSERT_EQ(s->gpus.size(), 1u);
  ASSERT_EQ(s->workloads.size(), 2u);
  const Workload& w = s->workloads[0];
  EXPECT_EQ(w.runtime, "ollama");
  EXPECT_EQ(w.pids, (std::vector<int>{1200, 1300}));
  EXPECT_EQ(w.model, "qwen2:7b");  // the runtime's name beats the blob's
  EXPECT_EQ(w.vram_bytes, 6ull << 30);
  EXPECT_EQ(w.context_tokens, 8192u);
  EXPECT_EQ(asked_ctx, 8192u);
  ASSERT_EQ(w.models.size(), 1u);
  EXPECT_EQ(w.models[0].architecture, "qwen2");
  ASSERT_TRUE(w.estimate.has_value());
  EXPECT_EQ(w.estimate->kv_cache_bytes, 448ull << 20);
  EXPECT_EQ(w.container_id, "");  // the top process runs on the host
  EXPECT_EQ(s->workloads[1].runtime, "other");
  EXPECT_EQ(s->workloads[1].runtime_name, "firefox");
  ASSERT_EQ(s->loaded_models.size(), 1u);
  bool offload = false, other = false;
  for (const auto& wa : s->warnings) {
    offload = offload || wa.message == "qwen2:7b is 30% on CPU: expect ~5x slower generation";
    other = other || wa.message == "1.9 GiB VRAM held by non-AI processes: firefox (1.9 GiB)";
  }
  EXPECT_TRUE(offload);
  EXPECT_TRUE(other);
  ASSERT_EQ(s->unsupported.size(), 1u);
  EXPECT_NE(s->unsupported[0].find("DirectML: Windows only"), std::string::npos);
}

TEST(AIWorkloadDetector, MissingMeminfoIsAnErrorNamingTheFile) {
  FakeProc fp;
  DetectorOptions o;
  o.proc_root = fp.root();
  auto s = AIWorkloadDetector(o).snapshot();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(fp.root() + "/meminfo"), std::string::npos);
}

}  // namespace
}  // namespace memopt::detect

namespace memopt::detect {
namespace {

// The selective scan of `ai status` (full_scan = false) reads maps only for
// processes that may be AI work. A small process that maps ONNX Runtime under
// an anonymous name is still found when it holds a GPU device file, appears
// in the GPU backend's pids or is big; only the full scan finds the one that
// shows nothing of that.
TEST(AIWorkloadDetector, SelectiveScanKeepsLibraryOnlyWorkloadsThatShowAnotherSign) {
  FakeProc fp;
  const std::string ort = "/opt/app/lib/libonnxruntime.so.1.20.1";
  auto worker = [&](int pid, uint64_t rss_kb, std::vector<std::string> fds) {
    FakeProcess p;
    p.pid = pid;
    p.comm = "worker";
    p.argv = {"/opt/app/worker"};
    p.exe = "/opt/app/worker";
    p.rss_kb = rss_kb;
    p.mapped = {"/usr/lib/x86_64-linux-gnu/libc.so.6", ort};
    p.open_files = std::move(fds);
    fp.add(p);
  };
  worker(3001, 2048, {"/dev/dri/renderD128"});  // small, holds a GPU device file
  worker(3002, 2048, {});                        // small, nothing else: maps skipped
  worker(3003, 200 * 1024, {});                  // above kMapsRssFloorBytes
  worker(3004, 2048, {});                        // in the GPU backend's pid list
  FakeProcess sleeper;
  sleeper.pid = 3005;
  sleeper.comm = "sleep";
  sleeper.argv = {"sleep", "3600"};
  sleeper.exe = "/usr/bin/sleep";
  sleeper.mapped = {"/usr/lib/x86_64-linux-gnu/libc.so.6"};
  fp.add(sleeper);
  fp.write_net();

  auto runtimes_by_pid = [&](bool full) {
    DetectorOptions o;
    o.proc_root = fp.root();
    o.probe_ports = false;
    o.full_scan = full;
    o.read_gpus = [] {
      GpuReading g;
      g.processes = {{3004, 0, 512ull << 20}};
      return g;
    };
    AIWorkloadDetector d(std::move(o));
    auto ws = d.detect_active_runtimes();
    EXPECT_TRUE(ws.ok());
    std::map<int, std::string> out;
    if (ws.ok()) {
      for (const auto& w : *ws) out[w.pid] = w.runtime;
    }
    return out;
  };
  std::map<int, std::string> full = runtimes_by_pid(true);
  std::map<int, std::string> selective = runtimes_by_pid(false);
  EXPECT_EQ(full, (std::map<int, std::string>{
                      {3001, "onnxruntime"}, {3002, "onnxruntime"}, {3003, "onnxruntime"}, {3004, "onnxruntime"}}));
  EXPECT_EQ(selective, (std::map<int, std::string>{
                           {3001, "onnxruntime"}, {3003, "onnxruntime"}, {3004, "onnxruntime"}}));
}

TEST(MayBeAIWork, CheapSignsOnly) {
  proc::ProcessInfo p;
  p.pid = 10;
  p.comm = "sleep";
  p.exe = "/usr/bin/sleep";
  p.argv = {"sleep", "3600"};
  p.rss_bytes = 1 << 20;
  EXPECT_FALSE(may_be_ai_work(p, {}));
  std::vector<int> gpu_pids = {3, 10, 99};
  EXPECT_TRUE(may_be_ai_work(p, gpu_pids));
  proc::ProcessInfo big = p;
  big.rss_bytes = kMapsRssFloorBytes;
  EXPECT_TRUE(may_be_ai_work(big, {}));
  big.rss_bytes = kMapsRssFloorBytes - 1;
  EXPECT_FALSE(may_be_ai_work(big, {}));
  proc::ProcessInfo node = p;
  node.exe = "/usr/bin/node";
  node.argv = {"node", "app.mjs"};
  EXPECT_TRUE(may_be_ai_work(node, {}));
  proc::ProcessInfo py = p;
  py.exe = "/usr/bin/python3.12";
  py.argv = {"/venv/bin/python", "serve.py"};
  EXPECT_TRUE(may_be_ai_work(py, {}));
  proc::ProcessInfo named = p;  // the signature table knows the program
  named.exe = "/usr/local/bin/ollama";
  named.argv = {"/usr/local/bin/ollama", "serve"};
  EXPECT_TRUE(may_be_ai_work(named, {}));
  proc::ProcessInfo listener = p;
  listener.listening.push_back({"127.0.0.1", 9000, false});
  EXPECT_TRUE(may_be_ai_work(listener, {}));
  proc::ProcessInfo model = p;
  model.model_files = {"/srv/models/tiny.gguf"};
  EXPECT_TRUE(may_be_ai_work(model, {}));
  proc::ProcessInfo kthread = big;
  kthread.rss_bytes = kMapsRssFloorBytes;
  kthread.kernel_thread = true;
  EXPECT_FALSE(may_be_ai_work(kthread, {}));
}

}  // namespace
}  // namespace memopt::detect
