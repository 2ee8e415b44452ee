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
    const std::vector<ProcessGpuMemory> vram = {{3004, 0, 512ull << 20}};
    AIWorkloadDetector d(std::move(o));
    auto ws = d.detect_active_runtimes(vram);
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
