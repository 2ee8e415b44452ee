// The detector against REAL processes: a sleeper exec'd under each server's
// command line, a process mapping libraries named like ONNX Runtime's, and a
// real llama.cpp (node-llama-cpp) holding a tiny generated GGUF. Each must be
// detected with the right runtime and model, and be gone after it exits.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/temp_dir.h"
#include "detect/detector.h"
#include "runtimes/registry.h"
#include "detect/workload_detector.h"
#include "gguf/model_info.h"
#include "runtimes/probe.h"
#include "runtimes/runtime.h"
#include "support/tiny_models.h"
#include "support/tool_guard.h"

namespace memopt::detect {
namespace {

namespace fs = std::filesystem;

struct Spawned {
  pid_t pid = -1;
  std::string ready;  // the line the process printed when ready
};

// Reads one line from `fd` within `timeout`; "" on timeout or EOF.
std::string read_line(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return "";
    line.append(buf, static_cast<size_t>(n));
  }
  return line.substr(0, line.find('\n'));
}

// fork + exec `exe` with `argv` (argv[0] free-form), environment additions
// `env`, working directory `cwd`; waits for the ready line. `ready_on_stdout`:
// the process prints it on stdout (node), else on MEMOPT_SLEEPER_READY_FD.
Spawned spawn(const std::string& exe, const std::vector<std::string>& argv,
              const std::vector<std::string>& env, const std::string& cwd = "",
              bool ready_on_stdout = false, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(120);
    int ready_fd = ::dup(pipefd[1]);  // without CLOEXEC
    if (ready_on_stdout) ::dup2(pipefd[1], 1);
    std::vector<std::string> envs = env;
    envs.push_back("MEMOPT_SLEEPER_READY_FD=" + std::to_string(ready_fd));
    for (const auto& e : envs) ::putenv(const_cast<char*>(::strdup(e.c_str())));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execve(exe.c_str(), args.data(), environ);
    ::_exit(127);
  }
  ::close(pipefd[1]);
  Spawned s{pid, read_line(pipefd[0], timeout)};
  ::close(pipefd[0]);
  return s;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// Kills what a test spawned even when an assertion returns early, so no
// runtime-looking process outlives its test.
class Reaper {
 public:
  ~Reaper() {
    for (pid_t p : pids_) stop(p);
  }
  pid_t keep(pid_t p) {
    if (p > 0) pids_.push_back(p);
    return p;
  }
  void stop_now(pid_t p) {
    stop(p);
    pids_.erase(std::remove(pids_.begin(), pids_.end(), p), pids_.end());
  }

 private:
  std::vector<pid_t> pids_;
};

const Workload* with_pid(const std::vector<Workload>& ws, int pid) {
  for (const auto& w : ws)
    if (std::find(w.pids.begin(), w.pids.end(), pid) != w.pids.end()) return &w;
  return nullptr;
}

std::vector<Workload> scan_once(DetectorOptions o, bool full_scan) {
  o.probe_ports = false;  // nothing here speaks HTTP
  o.full_scan = full_scan;
  AIWorkloadDetector d(std::move(o));
  auto ws = d.detect_active_runtimes();
  EXPECT_TRUE(ws.ok()) << (ws.ok() ? "" : ws.error().message);
  return ws.ok() ? *ws : std::vector<Workload>{};
}

// Every real-process case runs through both scans: the selective one of
// `ai status` (returned, so the tests' assertions hold for it) must find the
// same workloads of the processes a test spawned as the full one of
// `ai detect`, with the same runtime, model and accelerators.
std::vector<Workload> scan_now(DetectorOptions o = {}, const std::vector<pid_t>& spawned = {}) {
  std::vector<Workload> full = scan_once(o, true);
  std::vector<Workload> selective = scan_once(std::move(o), false);
  for (pid_t pid : spawned) {
    SCOPED_TRACE("pid " + std::to_string(pid));
    const Workload* f = nullptr;
    const Workload* s = nullptr;
    for (const auto& w : full)
      if (std::find(w.pids.begin(), w.pids.end(), pid) != w.pids.end()) f = &w;
    for (const auto& w : selective)
      if (std::find(w.pids.begin(), w.pids.end(), pid) != w.pids.end()) s = &w;
    EXPECT_EQ(f == nullptr, s == nullptr);
    if (f && s) {
      EXPECT_EQ(f->runtime, s->runtime);
      EXPECT_EQ(f->model, s->model);
      EXPECT_EQ(f->accelerators, s->accelerators);
      EXPECT_EQ(f->model_files, s->model_files);
    }
  }
  return selective;
}

using testing::TempDir;

TEST(RealProcess, OnnxRuntimeLibrariesMappedByALiveProcess) {
  TempDir dir;
  fs::create_directories(dir.path() + "/models");
  std::string model = dir.path() + "/models/resnet50.onnx";
  std::ofstream(model) << "onnx";
  Spawned s = spawn(MEMOPT_DETECT_SLEEPER, {"vision-service", "--threads", "2"},
                    {std::string("MEMOPT_SLEEPER_DLOPEN=") + MEMOPT_FAKE_ORT + ":" + MEMOPT_FAKE_ORT_CUDA,
                     "MEMOPT_SLEEPER_OPEN=" + model});
  Reaper reaper;
  reaper.keep(s.pid);
  ASSERT_EQ(s.ready.rfind("ready", 0), 0u) << "sleeper did not start";
  auto ws = scan_now({}, {s.pid});
  const Workload* w = with_pid(ws, s.pid);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->runtime, "onnxruntime");
  EXPECT_EQ(w->pid, s.pid);
  EXPECT_EQ(w->model, "resnet50.onnx");
  EXPECT_EQ(w->model_files, std::vector<std::string>{model});
  EXPECT_NE(std::find(w->accelerators.begin(), w->accelerators.end(), "ONNX Runtime CUDA EP"),
            w->accelerators.end());
  bool saw_lib = std::any_of(w->evidence.begin(), w->evidence.end(),
                             [](const Evidence& e) {
                               return e.signal == "library" &&
                                      e.detail.find("libonnxruntime.so.1.20.1") != std::string::npos;
                             });
  EXPECT_TRUE(saw_lib);
  EXPECT_GT(w->rss_bytes, 0u);
  reaper.stop_now(s.pid);
  EXPECT_EQ(with_pid(scan_now(), s.pid), nullptr);
}

// A small interpreter process whose only AI sign is a mapped library (an
// app.mjs using onnxruntime-node, no model file open yet): the selective scan
// reads its maps because it runs under an interpreter. The same process under
// an anonymous name is left to the full scan (`ai detect`).
TEST(RealProcess, SmallInterpreterMappingAnAILibraryIsFoundBySelectiveScan) {
  std::string libs = std::string("MEMOPT_SLEEPER_DLOPEN=") + MEMOPT_FAKE_ORT;
  Spawned node = spawn(MEMOPT_DETECT_SLEEPER, {"node", "app.mjs"}, {libs});
  Spawned anon = spawn(MEMOPT_DETECT_SLEEPER, {"vision-worker"}, {libs});
  Reaper reaper;
  reaper.keep(node.pid);
  reaper.keep(anon.pid);
  ASSERT_EQ(node.ready.rfind("ready", 0), 0u) << "sleeper did not start";
  ASSERT_EQ(anon.ready.rfind("ready", 0), 0u) << "sleeper did not start";
  auto selective = scan_once({}, false);
  const Workload* w = with_pid(selective, node.pid);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->runtime, "onnxruntime");
  EXPECT_EQ(with_pid(selective, anon.pid), nullptr);
  auto full = scan_once({}, true);
  ASSERT_NE(with_pid(full, node.pid), nullptr);
  ASSERT_NE(with_pid(full, anon.pid), nullptr);
  EXPECT_EQ(with_pid(full, anon.pid)->runtime, "onnxruntime");
}

TEST(RealProcess, ServerCommandLines) {
  TempDir dir;
  fs::create_directories(dir.path() + "/ComfyUI");
  fs::create_directories(dir.path() + "/stable-diffusion-webui");
  fs::create_directories(dir.path() + "/models");
  std::string gguf = dir.path() + "/models/qwen2.5-0.5b-q8_0.gguf";
  std::ofstream(gguf) << "GGUF";
  struct Case {
    std::vector<std::string> argv;
    std::string cwd;
    std::string runtime;
    std::string model;
    bool listen = false;
  };
  std::vector<Case> cases = {
      {{"python3", "-m", "vllm.entrypoints.openai.api_server", "--model", "Qwen/Qwen2.5-0.5B-Instruct"}, "", "vllm",
       "Qwen/Qwen2.5-0.5B-Instruct"},
      {{"/venv/bin/python3", "/venv/bin/vllm", "serve", "meta-llama/Llama-3.2-1B"}, "", "vllm", "meta-llama/Llama-3.2-1B"},
      {{"python3", "-m", "sglang.launch_server", "--model-path", "qwen/qwen2.5-0.5b-instruct"}, "", "sglang",
       "qwen/qwen2.5-0.5b-instruct"},
      {{"text-generation-launcher", "--model-id", "HuggingFaceTB/SmolLM2-135M"}, "", "tgi", "HuggingFaceTB/SmolLM2-135M"},
      {{"/usr/local/bin/ollama", "serve"}, "", "ollama", "", true},
      {{"llama-server", "-m", gguf, "--port", "8080"}, "", "llama.cpp", "qwen2.5-0.5b-q8_0.gguf", true},
      {{"whisper-server", "-m", "/models/ggml-base.en.bin"}, "", "whisper", "ggml-base.en.bin"},
      {{"python3", "main.py", "--listen"}, dir.path() + "/ComfyUI", "comfyui", ""},
      {{"python3", "launch.py", "--api"}, dir.path() + "/stable-diffusion-webui", "stable-diffusion", ""},
  };
  std::vector<Spawned> procs;
  Reaper reaper;
  for (const auto& c : cases) {
    Spawned s = spawn(MEMOPT_DETECT_SLEEPER, c.argv, {c.listen ? "MEMOPT_SLEEPER_LISTEN=1" : "X=0"}, c.cwd);
    reaper.keep(s.pid);
    ASSERT_EQ(s.ready.rfind("ready", 0), 0u) << c.argv[0];
    procs.push_back(s);
  }
  std::vector<pid_t> pids;
  for (const auto& p : procs) pids.push_back(p.pid);
  auto ws = scan_now({}, pids);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].argv[0] + " -> " + cases[i].runtime);
    const Workload* w = with_pid(ws, procs[i].pid);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->runtime, cases[i].runtime);
    EXPECT_EQ(w->pid, procs[i].pid);
    if (!cases[i].model.empty()) {
      EXPECT_EQ(w->model, cases[i].model);
    }
    if (cases[i].listen) {
      int port = std::stoi(procs[i].ready.substr(6));
      EXPECT_EQ(w->endpoint, "http://127.0.0.1:" + std::to_string(port));
    }
  }
  for (const auto& p : procs) reaper.stop_now(p.pid);
  auto after = scan_now();
  for (const auto& p : procs) EXPECT_EQ(with_pid(after, p.pid), nullptr);
}

TEST(RealProcess, LlamaCppThroughNodeLlamaCpp) {
  std::string node_dir = std::string(MEMOPT_SOURCE_DIR) + "/tests/node";
  std::string node = "/usr/bin/node";
  if (!fs::exists(node)) node = "/usr/local/bin/node";
  MEMOPT_REQUIRE_TOOL(fs::exists(node), "node", "apt-get install nodejs npm");
  MEMOPT_REQUIRE_TOOL(fs::exists(node_dir + "/node_modules/node-llama-cpp"), "node-llama-cpp",
                      "cd tests/node && npm install");
  TempDir dir;
  fs::create_directories(dir.path() + "/models");
  std::string model = dir.path() + "/models/" +
                      memopt::testing::tiny_model_file_name(memopt::testing::TinyArch::kLlamaGqa);
  ASSERT_TRUE(memopt::testing::write_tiny_model(memopt::testing::TinyArch::kLlamaGqa, model).ok());
  Spawned s = spawn(node, {"node", node_dir + "/hold_model.mjs", model}, {}, node_dir,
                    /*ready_on_stdout=*/true, std::chrono::seconds(90));
  Reaper reaper;
  reaper.keep(s.pid);
  ASSERT_EQ(s.ready.rfind("ready", 0), 0u) << "node-llama-cpp did not load the tiny model";
  DetectorOptions o;
  o.read_model = [](const std::string& p) { return gguf::get_model_info(p); };
  auto ws = scan_now(o, {s.pid});
  const Workload* w = with_pid(ws, s.pid);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->runtime, "llama.cpp");
  EXPECT_EQ(w->flavor, "node-llama-cpp");
  EXPECT_EQ(w->model, fs::path(model).filename().string());
  ASSERT_NE(std::find(w->model_files.begin(), w->model_files.end(), model), w->model_files.end());
  ASSERT_EQ(w->models.size(), 1u);
  gguf::ModelInfo expect = memopt::testing::tiny_model_info(memopt::testing::TinyArch::kLlamaGqa);
  EXPECT_EQ(w->models[0].error, "");
  EXPECT_EQ(w->models[0].architecture, "llama");
  EXPECT_EQ(w->models[0].block_count, expect.block_count);
  EXPECT_EQ(w->models[0].parameter_count, expect.parameter_count);
  EXPECT_EQ(w->models[0].weight_bytes, expect.weight_bytes);
  EXPECT_GT(w->rss_bytes, 0u);
  reaper.stop_now(s.pid);
  EXPECT_EQ(with_pid(scan_now(), s.pid), nullptr);
}

// A stand-in Ollama: a python script named `ollama`, run as `ollama serve`,
// that answers the fixture payloads on a random loopback port (never 11434).
constexpr const char* kFixtureOllama = R"(import http.server, os
fixtures = os.environ["MEMOPT_FIXTURES"]
routes = {"/api/version": "ollama-version.json", "/api/ps": "ollama-ps.json",
          "/api/tags": "ollama-tags.json"}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = routes.get(self.path.split("?")[0])
        if name is None:
            self.send_error(404)
            return
        with open(os.path.join(fixtures, name), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("ready", server.server_address[1], flush=True)
server.serve_forever()
)";

// The detector's listening ports feed runtime discovery: an Ollama on a
// random port is found by the process scan, handed to discover_endpoints
// as a detected endpoint, and its client reads the fixture's models there.
TEST(RealProcess, RuntimeOnANonDefaultPortIsDiscoveredFromTheScan) {
  std::string python = "/usr/bin/python3";
  MEMOPT_REQUIRE_TOOL(fs::exists(python), "python3", "apt-get install python3");
  TempDir dir;
  std::string script = dir.path() + "/ollama";
  std::ofstream(script) << kFixtureOllama;
  Spawned s = spawn(python, {"python3", script, "serve"},
                    {std::string("MEMOPT_FIXTURES=") + MEMOPT_FIXTURES_DIR + "/runtimes"}, dir.path(),
                    /*ready_on_stdout=*/true, std::chrono::seconds(20));
  Reaper reaper;
  reaper.keep(s.pid);
  ASSERT_EQ(s.ready.rfind("ready ", 0), 0u) << "the fixture server did not start";
  int port = std::stoi(s.ready.substr(6));
  ASSERT_NE(port, runtimes::default_port(runtimes::RuntimeKind::kOllama));

  std::vector<runtimes::Endpoint> detected = detected_runtime_endpoints("/proc");
  const runtimes::Endpoint* mine = nullptr;
  for (const auto& e : detected) {
    if (e.url.port == port) mine = &e;
  }
  ASSERT_NE(mine, nullptr) << detected.size() << " endpoints detected, none on port " << port;
  EXPECT_EQ(mine->kind, runtimes::RuntimeKind::kOllama);
  EXPECT_EQ(mine->url.str(), "http://127.0.0.1:" + std::to_string(port));
  EXPECT_FALSE(mine->explicit_);

  runtimes::DiscoveryInput in;
  in.detected = detected;
  auto endpoints = runtimes::discover_endpoints(in);
  ASSERT_TRUE(endpoints.ok());
  auto found = std::find_if(endpoints->begin(), endpoints->end(),
                            [&](const runtimes::Endpoint& e) { return e.url.port == port; });
  ASSERT_NE(found, endpoints->end());
  auto client = runtimes::make_client(*found->kind, found->url, {});
  auto models = client->loaded_models();
  ASSERT_TRUE(models.ok()) << models.error().message;
  std::vector<std::string> names;
  for (const auto& m : *models) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"nomic-embed-text:latest", "qwen3:8b", "gemma3:27b"}));

  // An explicit endpoint means "that runtime only": detected ones are dropped.
  in.explicit_endpoints.push_back({runtimes::RuntimeKind::kVllm, {"http", "127.0.0.1", 8001}, true});
  auto only = runtimes::discover_endpoints(in);
  ASSERT_TRUE(only.ok());
  ASSERT_EQ(only->size(), 1u);
  EXPECT_EQ(only->front().url.port, 8001);

  reaper.stop_now(s.pid);
  for (const auto& e : detected_runtime_endpoints("/proc")) EXPECT_NE(e.url.port, port);
}

TEST(RealProcess, RepeatedScansWhileRuntimesComeAndGo) {
  // Runtime-looking processes start and exit while the detector scans; no
  // scan may fail or report a workload that is not a table runtime.
  std::atomic<bool> stop_flag{false};
  std::thread churn([&] {
    while (!stop_flag) {
      Spawned s = spawn(MEMOPT_DETECT_SLEEPER, {"llama-server", "-m", "/models/x.gguf"}, {});
      ::usleep(2000);
      stop(s.pid);
    }
  });
  for (int i = 0; i < 25; ++i) {
    auto ws = scan_now();
    for (const auto& w : ws) {
      ASSERT_TRUE(w.runtime == "other" || runtimes::find_runtime(w.runtime) != nullptr) << w.runtime;
      ASSERT_GT(w.pid, 0);
      ASSERT_FALSE(w.pids.empty());
      ASSERT_TRUE(std::is_sorted(w.pids.begin(), w.pids.end()));
    }
  }
  stop_flag = true;
  churn.join();
}

}  // namespace
}  // namespace memopt::detect
