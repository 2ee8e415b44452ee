// The one assembler on fixture trees with fake sources: the GPU reading, the
// model reader and the runtimes' answers are parameters, so everything it
// joins — and what it tracks across readings — is checked without a GPU or a
// running runtime.
#include "assembler/assembler.h"

#include <gtest/gtest.h>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "snapshot/snapshot_json.h"
#include "support/fake_proc.h"
#include "support/replay_server.h"

namespace memopt::assembler {
namespace {

using memopt::testing::FakeProc;
using memopt::testing::FakeProcess;

const char* kMeminfo =
    "MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n";

gpu::GpuSnapshot one_gpu() {
  gpu::GpuSnapshot g;
  gpu::GpuDevice d;
  d.index = 0;
  d.name = "RTX 4090";
  d.vendor = gpu::Vendor::kNvidia;
  d.backend = "nvml";
  d.memory_total_bytes = 24ull << 30;
  d.memory_used_bytes = 9ull << 30;
  d.temperature_c = 64;
  d.processes = {{1300, gpu::ProcessKind::kCompute, 6ull << 30, 0},
                 {2000, gpu::ProcessKind::kGraphics, 1900ull << 20, 0}};
  g.gpus.push_back(d);
  return g;
}

struct Machine {
  FakeProc fp;
  std::string blob = "/var/lib/ollama/models/blobs/sha256-abc";
  Machine() {
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
    runner.argv = {"/usr/lib/ollama/llama-server", "--model", blob, "-c", "8192", "-np", "2"};
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
  }
};

TEST(SnapshotAssembler, JoinsGpusModelsRuntimesAndWarnings) {
  Machine m;
  AssembleOptions o;
  o.proc_root = m.fp.root();
  o.sys_root = m.fp.root() + "/no-sys";
  o.probe_ports = false;
  AssemblerSources src;
  src.gpus = one_gpu;
  src.read_model = [&](const std::string& path) -> Result<gguf::ModelInfo> {
    EXPECT_EQ(path, m.blob);
    gguf::ModelInfo info;
    info.path = path;
    info.architecture = "qwen2";
    info.block_count = 28;
    info.file_type_name = "Q4_K_M";
    return info;
  };
  uint64_t asked_ctx = 0, asked_parallel = 0;
  src.estimate_model = [&](const gguf::ModelInfo&, uint64_t ctx, uint64_t parallel,
                           bool on_gpu) -> std::optional<snapshot::WorkloadEstimate> {
    asked_ctx = ctx;
    asked_parallel = parallel;
    EXPECT_TRUE(on_gpu);
    return snapshot::WorkloadEstimate{ctx, 4ull << 30, 448ull << 20, 5ull << 30};
  };
  int asked = 0;
  src.loaded_models = [&](const runtimes::RuntimeDescriptor& d, const runtimes::BaseUrl& base) {
    ++asked;
    EXPECT_EQ(d.kind, runtimes::RuntimeKind::kOllama);
    EXPECT_EQ(base.str(), "http://127.0.0.1:11434");
    runtimes::LoadedModel lm;
    lm.runtime = runtimes::RuntimeKind::kOllama;
    lm.name = "qwen2:7b";
    lm.size_bytes = 10ull << 30;
    lm.vram_bytes = 7ull << 30;
    lm.context_tokens = 8192;
    lm.parallel = 2;
    lm.expires_at = "2026-12-03T10:00:00Z";
    return Result<std::vector<runtimes::LoadedModel>>(std::vector<runtimes::LoadedModel>{lm});
  };
  src.ollama_layers = [](const runtimes::BaseUrl&, const std::string& model) {
    EXPECT_EQ(model, "qwen2:7b");
    return 29u;
  };
  SnapshotAssembler a(o, src);
  auto s = a.assemble(100);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(s->host.meminfo.total_bytes, 16ull << 30);
  ASSERT_EQ(s->gpus.size(), 1u);
  EXPECT_EQ(s->gpus[0].temperature_c, 64);  // telemetry is in the typed Snapshot
  EXPECT_EQ(s->gpu_backend, "nvml");
  ASSERT_EQ(s->workloads.size(), 2u);
  const snapshot::Workload& w = s->workloads[0];
  EXPECT_EQ(w.runtime, "ollama");
  EXPECT_EQ(w.pids, (std::vector<int>{1200, 1300}));
  EXPECT_EQ(w.model, "qwen2:7b");  // the runtime's name beats the blob's
  EXPECT_EQ(w.vram_bytes, 6ull << 30);
  EXPECT_EQ(w.context_tokens, 8192u);
  EXPECT_EQ(w.parallel, 2u);
  EXPECT_EQ(asked_ctx, 8192u);
  EXPECT_EQ(asked_parallel, 2u);
  ASSERT_EQ(w.models.size(), 1u);
  EXPECT_EQ(w.models[0].architecture, "qwen2");
  ASSERT_TRUE(w.estimate.has_value());
  EXPECT_EQ(w.estimate->kv_cache_bytes, 448ull << 20);
  EXPECT_EQ(w.container_id, "");  // the top process runs on the host
  EXPECT_EQ(s->workloads[1].runtime, "other");
  EXPECT_EQ(s->workloads[1].runtime_name, "firefox");
  ASSERT_EQ(s->loaded_models.size(), 1u);
  const runtimes::LoadedModel& lm = s->loaded_models[0];
  EXPECT_EQ(lm.endpoint, "http://127.0.0.1:11434");  // filled from where it was asked
  EXPECT_EQ(lm.n_layers, 29u);
  EXPECT_FALSE(lm.idle_seconds);  // one reading: idle time is not known yet
  // Ollama gives no KV bytes: the estimator's, at the runtime's context and
  // parallel, labelled estimated — the same figure as the workload's.
  ASSERT_TRUE(lm.kv.capacity_bytes.known());
  EXPECT_EQ(*lm.kv.capacity_bytes.value, 448ull << 20);
  EXPECT_EQ(lm.kv.capacity_bytes.source, runtimes::Provenance::kEstimated);
  bool offload = false, other = false;
  for (const auto& wa : s->warnings) {
    offload = offload || wa.message == "qwen2:7b is 30% on CPU: expect ~5x slower generation";
    other = other || wa.message == "1.9 GiB VRAM held by non-AI processes: firefox (1.9 GiB)";
  }
  EXPECT_TRUE(offload);
  EXPECT_TRUE(other);
  ASSERT_EQ(s->unsupported.size(), 1u);
  EXPECT_NE(s->unsupported[0].find("DirectML: Windows only"), std::string::npos);
  EXPECT_TRUE(s->errors.empty());

  // A second reading 30 s later: the model has been idle since the first.
  auto s2 = a.assemble(130);
  ASSERT_TRUE(s2.ok());
  ASSERT_EQ(s2->loaded_models.size(), 1u);
  EXPECT_EQ(s2->loaded_models[0].idle_seconds, 30);
}

TEST(SnapshotAssembler, ARuntimeThatFailsIsRecordedAndTheRestReports) {
  Machine m;
  AssembleOptions o;
  o.proc_root = m.fp.root();
  o.probe_ports = false;
  o.read_models = false;
  AssemblerSources src;
  src.gpus = one_gpu;
  src.loaded_models = [](const runtimes::RuntimeDescriptor&, const runtimes::BaseUrl& base) {
    return Result<std::vector<runtimes::LoadedModel>>(
        make_error("GET " + base.str() + "/api/ps: connection refused"));
  };
  auto s = SnapshotAssembler(o, src).assemble(1);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->errors.size(), 1u);
  EXPECT_EQ(s->errors[0].collector, "runtimes");
  EXPECT_NE(s->errors[0].message.find("127.0.0.1:11434"), std::string::npos);
  EXPECT_EQ(s->workloads.size(), 2u);
  EXPECT_TRUE(s->loaded_models.empty());
}

TEST(SnapshotAssembler, MissingMeminfoIsAnErrorNamingTheFileWhenStrict) {
  FakeProc fp;
  AssembleOptions o;
  o.proc_root = fp.root();
  o.probe_ports = false;
  AssemblerSources src;
  src.gpus = [] { return gpu::GpuSnapshot{}; };
  auto s = SnapshotAssembler(o, src).assemble(0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(fp.root() + "/meminfo"), std::string::npos);
  // The daemon's reading is not strict: the error is recorded, nothing stops.
  o.strict = false;
  auto lenient = SnapshotAssembler(o, src).assemble(0);
  ASSERT_TRUE(lenient.ok());
  bool host = false;
  for (const auto& e : lenient->errors) host = host || e.collector == "host";
  EXPECT_TRUE(host);
  EXPECT_EQ(lenient->gpu_error, "no GPU found");
}

TEST(SnapshotAssembler, BetweenScansVramComesFromTheNewReading) {
  Machine m;
  AssembleOptions o;
  o.proc_root = m.fp.root();
  o.probe_ports = false;
  o.query_runtimes = false;
  o.read_models = false;
  o.detect_interval_seconds = 60;
  uint64_t runner_vram = 6ull << 30;
  AssemblerSources src;
  src.gpus = [&] {
    auto g = one_gpu();
    g.gpus[0].processes[0].used_bytes = runner_vram;
    return g;
  };
  SnapshotAssembler a(o, src);
  ASSERT_TRUE(a.assemble(0).ok());
  runner_vram = 8ull << 30;
  auto s = a.assemble(5);  // no rescan yet
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->workloads[0].vram_bytes, 8ull << 30);
}

TEST(SnapshotAssembler, RuntimesAreAskedAtTheSameTime) {
  // Each fake runtime answers only once both have been asked, so a reading
  // that asked them one after the other gets two "not at the same time"
  // errors instead of models. No timing is measured.
  FakeProc fp;
  fp.write_file("meminfo", kMeminfo);
  AssembleOptions o;
  o.proc_root = fp.root();
  o.probe_ports = false;
  o.endpoints = {"ollama=http://127.0.0.1:1", "vllm=http://127.0.0.1:2"};
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  AssemblerSources src;
  src.gpus = [] { return gpu::GpuSnapshot{}; };
  src.ollama_layers = [](const runtimes::BaseUrl&, const std::string&) { return 0u; };
  src.loaded_models = [&](const runtimes::RuntimeDescriptor& d, const runtimes::BaseUrl&) {
    std::unique_lock<std::mutex> lock(mu);
    ++started;
    cv.notify_all();
    if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return started == 2; })) {
      return Result<std::vector<runtimes::LoadedModel>>(make_error("not at the same time"));
    }
    runtimes::LoadedModel m;
    m.runtime = d.kind;
    m.name = std::string(d.id()) + "-model";
    return Result<std::vector<runtimes::LoadedModel>>(std::vector<runtimes::LoadedModel>{m});
  };
  o.strict = false;
  auto s = SnapshotAssembler(o, src).assemble(0);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->loaded_models.size(), 2u);
  EXPECT_EQ(s->loaded_models[0].name, "ollama-model");  // answers kept in order
  EXPECT_EQ(s->loaded_models[1].name, "vllm-model");
}

TEST(SnapshotAssembler, AKeyFromACommandLineGoesOnlyWhereItsOwnerCouldSendIt) {
  EXPECT_TRUE(detect::may_send_key(1000, 1000));
  EXPECT_TRUE(detect::may_send_key(0, 1000));  // root reads every command line
  EXPECT_FALSE(detect::may_send_key(1000, 1001));
  EXPECT_FALSE(detect::may_send_key(1001, 0));
}

// A llama-server stand-in that answers /props only with `key` (llama-server's
// 401 otherwise), counting the refusals.
struct KeyedLlamaServer {
  explicit KeyedLlamaServer(std::string key)
      : props(memopt::testing::fixture("llamacpp-props.json")) {
    server.Get("/props", [this, key](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != "Bearer " + key) {
        ++refused;
        res.status = 401;
        res.set_content(R"({"error":{"code":401,"message":"Invalid API Key",)"
                        R"("type":"authentication_error"}})",
                        "application/json");
        return;
      }
      res.set_content(props, "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    if (port > 0) thread = std::thread([this] { server.listen_after_bind(); });
    // Listening before anything can stop it (a stop() before the listen
    // starts would be lost, and the join would wait for ever).
    for (int i = 0; port > 0 && i < 2000 && !server.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~KeyedLlamaServer() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
  std::string props;
  httplib::Server server;
  std::atomic<int> refused{0};
  int port = 0;
  std::thread thread;
};

// One reading of the fake tree `fp` with no GPU and no model files, with
// the options `set` gives (endpoints, host variables).
Result<snapshot::Snapshot> assemble_on(const FakeProc& fp,
                                       const std::function<void(AssembleOptions&)>& set = {}) {
  AssembleOptions o;
  o.proc_root = fp.root();
  o.sys_root = fp.root() + "/no-sys";
  o.probe_ports = false;
  o.read_models = false;
  o.strict = false;
  if (set) set(o);
  AssemblerSources src;
  src.gpus = [] { return gpu::GpuSnapshot{}; };
  return SnapshotAssembler(o, src).assemble(0);
}

// The same on a machine with no processes.
Result<snapshot::Snapshot> assemble_empty(const std::function<void(AssembleOptions&)>& set) {
  FakeProc fp;
  fp.write_file("meminfo", kMeminfo);
  return assemble_on(fp, set);
}

// A llama-server started with --api-key answers its API only with the key.
// The key on its command line is sent to it (a reader of the same user, or
// root, reads that line as its owner does), so its model is listed; it is
// never in the Snapshot's JSON. Owned by another user, it is not used: the
// server's 401 is reported.
TEST(SnapshotAssembler, AServerStartedWithAnApiKeyIsReadWithIt) {
  KeyedLlamaServer server("sk-local-0123");
  const int port = server.port;
  ASSERT_GT(port, 0);
  // The key on the command line, or in LLAMA_API_KEY (kept out of the
  // process list that way): the same.
  for (const bool in_env : {false, true})
  for (const uint32_t owner : {static_cast<uint32_t>(::geteuid()), ::geteuid() + 4242u}) {
    FakeProc fp;
    fp.write_file("meminfo", kMeminfo);
    FakeProcess p;
    p.pid = 3100;
    p.uid = owner;
    p.comm = "llama-server";
    p.argv = {"/opt/llama/llama-server", "-m", "/models/q.gguf"};
    if (in_env) {
      p.environment = {"HOME=/home/u", "LLAMA_API_KEY=sk-local-0123"};
    } else {
      p.argv.insert(p.argv.end(), {"--api-key", "sk-local-0123"});
    }
    p.exe = "/opt/llama/llama-server";
    p.open_files = {"socket:[5151]"};
    fp.add(p);
    fp.add_listener({"0100007F", static_cast<uint16_t>(port), 5151, false});
    fp.write_net();
    auto s = assemble_on(fp);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(s->workloads.size(), 1u);
    EXPECT_EQ(s->workloads[0].api_key, "sk-local-0123");
    EXPECT_EQ(snapshot::to_json(*s).dump().find("sk-local"), std::string::npos);
    if (owner == ::geteuid() || ::geteuid() == 0) {
      ASSERT_EQ(s->loaded_models.size(), 1u) << (s->errors.empty() ? "" : s->errors[0].message);
      EXPECT_EQ(s->loaded_models[0].endpoint, "http://127.0.0.1:" + std::to_string(port));
      EXPECT_TRUE(s->errors.empty());
    } else {
      EXPECT_TRUE(s->loaded_models.empty());
      ASSERT_EQ(s->errors.size(), 1u);
      EXPECT_NE(s->errors[0].message.find("HTTP 401: Invalid API Key"), std::string::npos)
          << s->errors[0].message;
    }
  }
  EXPECT_EQ(server.refused.load(), ::geteuid() == 0 ? 0 : 2);
}

// A runtime the daemon is told to poll (daemon --endpoint llama.cpp=URL)
// is not one the scan found: the key the daemon's environment holds for it
// (LLAMA_API_KEY) is sent; without it, the server's 401 is reported, as
// any failure of an endpoint the user named is (down: "connection
// refused"). A runtime's host variable only says where it would be: nothing
// answering there is no error.
TEST(SnapshotAssembler, AFixedEndpointGetsTheKeyTheEnvironmentHolds) {
  KeyedLlamaServer server("sk-polled-0123");
  const int port = server.port;
  ASSERT_GT(port, 0);
  for (const bool keyed : {true, false}) {
    if (keyed) ::setenv("LLAMA_API_KEY", "sk-polled-0123,other", 1);
    auto s = assemble_empty([&](AssembleOptions& o) {
      o.endpoints = {"llama.cpp=http://127.0.0.1:" + std::to_string(port)};
    });
    ::unsetenv("LLAMA_API_KEY");
    ASSERT_TRUE(s.ok()) << s.error().message;
    if (keyed) {
      ASSERT_EQ(s->loaded_models.size(), 1u) << (s->errors.empty() ? "" : s->errors[0].message);
      EXPECT_EQ(s->loaded_models[0].endpoint, "http://127.0.0.1:" + std::to_string(port));
      EXPECT_EQ(snapshot::to_json(*s).dump().find("sk-polled"), std::string::npos);
    } else {
      EXPECT_TRUE(s->loaded_models.empty());
      ASSERT_EQ(s->errors.size(), 1u);
      EXPECT_NE(s->errors[0].message.find("HTTP 401: Invalid API Key"), std::string::npos)
          << s->errors[0].message;
    }
  }
  EXPECT_EQ(server.refused.load(), 1);  // the one reading without the key
  int gone_port = 0;
  {
    KeyedLlamaServer gone("k");
    gone_port = gone.port;
  }
  for (const bool named : {true, false}) {
    const std::string url = "http://127.0.0.1:" + std::to_string(gone_port);
    auto s = assemble_empty([&](AssembleOptions& o) {
      if (named) {
        o.endpoints = {"ollama=" + url};
      } else {
        o.host_env = {{"OLLAMA_HOST", url}};
      }
    });
    ASSERT_TRUE(s.ok()) << s.error().message;
    if (named) {
      ASSERT_EQ(s->errors.size(), 1u);
      EXPECT_NE(s->errors[0].message.find("connection refused"), std::string::npos)
          << s->errors[0].message;
    } else {
      EXPECT_TRUE(s->errors.empty()) << s->errors[0].message;
    }
  }
}

}  // namespace
}  // namespace memopt::assembler
