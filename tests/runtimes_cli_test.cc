// The runtime commands end to end: the built binary against the replay server
// (documented payloads and every failure) and against the real llama.cpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/replay_server.h"
#include "support/tiny_models.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using memopt::testing::Canned;
using memopt::testing::fixture;
using memopt::testing::ReplayServer;
using nlohmann::json;
namespace fs = std::filesystem;

struct CliRun {
  int rc = -1;
  std::string out, err;
  double seconds = 0;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the CLI with `args`; no GPU is visible (empty sys root, missing NVML)
// unless `nvml` names a (fake) libnvidia-ml.so.1.
CliRun cli(std::vector<std::string> args, const std::string& nvml = "") {
  static int counter = 0;
  fs::path dir = fs::temp_directory_path() / ("memopt_rt_cli_" + std::to_string(getpid()));
  fs::create_directories(dir / "sys");
  std::string out = (dir / ("out" + std::to_string(counter))).string();
  std::string err = (dir / ("err" + std::to_string(counter++))).string();
  std::vector<std::string> full = {MEMOPT_CLI, "--sys-root", (dir / "sys").string(), "--nvml-library",
                                   nvml.empty() ? (dir / "no-libnvidia-ml.so.1").string() : nvml};
  full.insert(full.end(), args.begin(), args.end());
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    unsetenv("OLLAMA_HOST");
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CliRun r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

void expect_fits_80_columns(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) EXPECT_LE(line.size(), 80u) << line;
}

std::string ps_without(const std::string& name) {
  json ps = json::parse(fixture("ollama-ps.json"));
  json kept = json::array();
  for (const json& m : ps["models"]) {
    if (m["name"] != name) kept.push_back(m);
  }
  ps["models"] = kept;
  return ps.dump();
}

void serve_ollama(ReplayServer& s) {
  s.on_fixture("GET /api/version", "ollama-version.json");
  s.on_fixture("GET /api/ps", "ollama-ps.json");
}

TEST(AiModels, OllamaJsonAndText) {
  ReplayServer s;
  serve_ollama(s);
  CliRun j = cli({"--json", "ai", "models", "--ollama-host", s.url()});
  ASSERT_EQ(j.rc, 0) << j.err;
  json doc = json::parse(j.out);
  EXPECT_EQ(doc["schema"], "ruvector-memopt.ai-models/1");
  ASSERT_EQ(doc["models"].size(), 3u);
  EXPECT_EQ(doc["models"][2]["name"], "gemma3:27b");
  EXPECT_EQ(doc["models"][2]["vram_bytes"], 17179869184ULL);
  EXPECT_DOUBLE_EQ(doc["models"][2]["gpu_share"].get<double>(), 0.8);
  EXPECT_TRUE(doc["models"][0]["expires_in_s"].is_null());  // pinned: never
  EXPECT_EQ(doc["runtimes"][0]["version"], "0.30.2");

  CliRun t = cli({"ai", "models", "--ollama-host", s.url()});
  ASSERT_EQ(t.rc, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("ollama 0.30.2 at " + s.url()));
  EXPECT_THAT(t.out, HasSubstr("20%/80% CPU"));
  EXPECT_THAT(t.out, HasSubstr("never"));
  expect_fits_80_columns(t.out);
}

TEST(AiModels, OneBrokenRuntimeDoesNotHideTheOthers) {
  ReplayServer ollama, vllm;
  serve_ollama(ollama);
  vllm.on_fixture("GET /version", "vllm-version.json");
  vllm.on("GET /health", 200, "");
  vllm.on("GET /v1/models", 500, "{\"error\":{\"message\":\"engine dead\"}}");
  CliRun r = cli({"--json", "ai", "models", "--ollama-host", ollama.url(), "--vllm", vllm.url()});
  EXPECT_EQ(r.rc, 1);
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["models"].size(), 3u);
  ASSERT_EQ(doc["problems"].size(), 1u);
  EXPECT_THAT(doc["problems"][0].get<std::string>(), HasSubstr("HTTP 500: engine dead"));
}

// A server named by an endpoint option is not found by the scan, so its key
// is not either: the key the user's environment holds for its runtime
// (VLLM_API_KEY here, the variable vLLM itself reads) is sent to it. Without
// it, the server's 401 is reported.
TEST(AiModels, ANamedServerGetsTheKeyTheEnvironmentHolds) {
  ReplayServer vllm;
  vllm.on_fixture("GET /version", "vllm-version.json");
  vllm.on("GET /health", 200, "");
  vllm.on_fixture("GET /v1/models", "vllm-v1-models.json");
  ::setenv("VLLM_API_KEY", "sk-team-0123", 1);
  CliRun keyed = cli({"--json", "ai", "models", "--vllm", vllm.url()});
  ::unsetenv("VLLM_API_KEY");
  ASSERT_EQ(keyed.rc, 0) << keyed.err;
  EXPECT_EQ(json::parse(keyed.out)["models"].size(), 1u);
  const auto asked = vllm.requests_to("GET", "/v1/models");
  ASSERT_FALSE(asked.empty());
  for (const auto& r : vllm.requests()) EXPECT_EQ(r.authorization, "Bearer sk-team-0123") << r.path;
  EXPECT_EQ(keyed.out.find("sk-team"), std::string::npos);

  ReplayServer locked;
  locked.on_fixture("GET /version", "vllm-version.json");
  locked.on("GET /health", 200, "");
  locked.on("GET /v1/models", 401, R"({"error":"Unauthorized"})");
  CliRun bare = cli({"--json", "ai", "models", "--vllm", locked.url()});
  EXPECT_EQ(bare.rc, 1);
  for (const auto& r : locked.requests()) EXPECT_EQ(r.authorization, "") << r.path;
  EXPECT_THAT(bare.out, HasSubstr("HTTP 401"));
}

TEST(AiModels, MalformedAndDeadEndpointsAreNamed) {
  ReplayServer s;
  s.on_fixture("GET /api/version", "ollama-version.json");
  s.on("GET /api/ps", 200, "<html>oops</html>");
  CliRun r = cli({"ai", "models", "--ollama-host", s.url()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.out, HasSubstr("GET " + s.url() + "/api/ps: the answer is not valid JSON"));
  int port;
  {
    ReplayServer gone;
    port = gone.port();
  }
  CliRun dead = cli({"ai", "models", "--ollama-host", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(dead.rc, 1);
  EXPECT_THAT(dead.out, HasSubstr("connection refused"));
  EXPECT_LT(dead.seconds, 3.0);
  CliRun bad = cli({"ai", "models", "--vllm", "ftp://x"});
  EXPECT_EQ(bad.rc, 1);
  EXPECT_THAT(bad.err, HasSubstr("unsupported scheme"));
}

TEST(AiModels, SlowRuntimeTimesOut) {
  ReplayServer s;
  s.on_fixture("GET /api/version", "ollama-version.json");
  s.on("GET /api/ps", Canned{200, fixture("ollama-ps.json"), "application/json", Canned::Kind::kSlow,
                             std::chrono::milliseconds(3000)});
  CliRun r = cli({"ai", "models", "--ollama-host", s.url(), "--timeout-ms", "300"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.out, HasSubstr("no answer within 300 ms"));
  EXPECT_LT(r.seconds, 2.5);
}

TEST(AiUnload, OllamaUnloadIsVerifiedByPolling) {
  ReplayServer s;
  serve_ollama(s);
  s.on_fixture("POST /api/generate", "ollama-generate-unload.json");
  // The model disappears from /api/ps a few polls after the request, as a
  // runner finishing in-flight work would.
  int polls_after = 0;
  s.on_request([&](const memopt::testing::Recorded& r) {
    if (r.path == "/api/generate") polls_after = 1;
    if (r.path == "/api/ps" && polls_after > 0 && ++polls_after == 3) {
      s.on("GET /api/ps", 200, ps_without("qwen3:8b"));
    }
  });
  CliRun r = cli({"ai", "unload", "qwen3:8b", "--ollama-host", s.url(), "--wait", "5"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Unloaded qwen3:8b from ollama"));
  EXPECT_THAT(r.out, HasSubstr("it held 7.0 GiB, 7.0 GiB on GPU"));
  EXPECT_THAT(r.out, HasSubstr("verified through the runtime only"));
  auto gen = s.requests_to("POST", "/api/generate");
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(json::parse(gen[0].body), json::parse(R"({"model":"qwen3:8b","keep_alive":0})"));
  EXPECT_GE(s.requests_to("GET", "/api/ps").size(), 3u);
}

#ifdef MEMOPT_FAKE_NVML_DIR
// Through the real NVML path (a fake libnvidia-ml.so.1 whose GPUs' memory use
// never changes): the runtime says "unloaded" but the GPUs do not get the
// memory back, and the command must say so rather than claim it was freed.
TEST(AiUnload, GpuMemoryThatDoesNotComeBackIsReported) {
  ReplayServer s;
  serve_ollama(s);
  s.on_fixture("POST /api/generate", "ollama-generate-unload.json");
  s.on_request([&](const memopt::testing::Recorded& r) {
    if (r.path == "/api/generate") s.on("GET /api/ps", 200, ps_without("qwen3:8b"));
  });
  std::string nvml = std::string(MEMOPT_FAKE_NVML_DIR) + "/modern/libnvidia-ml.so.1";
  CliRun r = cli({"--json", "ai", "unload", "qwen3:8b", "--ollama-host", s.url(), "--wait", "1"}, nvml);
  ASSERT_EQ(r.rc, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["unloaded"], true);
  ASSERT_TRUE(doc["gpu_used_before_bytes"].is_number()) << r.out;
  EXPECT_EQ(doc["gpu_used_before_bytes"], doc["gpu_used_after_bytes"]);
  EXPECT_EQ(doc["gpu_memory_returned"], false);
  s.on_fixture("GET /api/ps", "ollama-ps.json");
  CliRun t = cli({"ai", "unload", "qwen3:8b", "--ollama-host", s.url(), "--wait", "1"}, nvml);
  EXPECT_THAT(t.out, HasSubstr("GPUs did not get"));
}
#endif

TEST(AiUnload, ModelThatNeverGoesIsReported) {
  ReplayServer s;
  serve_ollama(s);
  s.on_fixture("POST /api/generate", "ollama-generate-unload.json");
  CliRun r = cli({"--json", "ai", "unload", "qwen3:8b", "--ollama-host", s.url(), "--wait", "1"});
  EXPECT_EQ(r.rc, 1);
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["schema"], "ruvector-memopt.ai-unload/1");
  EXPECT_EQ(doc["accepted"], true);
  EXPECT_EQ(doc["unloaded"], false);
  EXPECT_THAT(r.err, HasSubstr("still lists 'qwen3:8b' after 1 s"));
}

TEST(AiUnload, UnknownModelAndRuntimeRefusal) {
  ReplayServer s;
  serve_ollama(s);
  s.on("POST /api/generate", 404, "{\"error\":\"model 'qwen3:8b' not found\"}");
  CliRun none = cli({"ai", "unload", "llama9", "--ollama-host", s.url()});
  EXPECT_EQ(none.rc, 1);
  EXPECT_THAT(none.err, HasSubstr("no runtime has 'llama9' loaded (loaded: nomic-embed-text:latest, qwen3:8b, gemma3:27b)"));
  CliRun refused = cli({"ai", "unload", "qwen3:8b", "--ollama-host", s.url()});
  EXPECT_EQ(refused.rc, 1);
  EXPECT_THAT(refused.err, HasSubstr("HTTP 404: model 'qwen3:8b' not found"));
  // ":latest" may be left out.
  s.on_fixture("POST /api/generate", "ollama-generate-unload.json");
  s.on("GET /api/ps", 200, ps_without("nomic-embed-text:latest"));
  CliRun latest = cli({"ai", "unload", "nomic-embed-text", "--ollama-host", s.url(), "--wait", "1"});
  EXPECT_EQ(latest.rc, 1);  // already gone from the list: the name is not loaded
  EXPECT_THAT(latest.err, HasSubstr("no runtime has 'nomic-embed-text' loaded"));
}

TEST(AiUnload, LlamaCppSingleModelSaysNotSupported) {
  ReplayServer s;
  s.on_fixture("GET /health", "llamacpp-health-ok.json");
  s.on_fixture("GET /props", "llamacpp-props.json");
  s.on_fixture("GET /slots", "llamacpp-slots.json");
  s.on_fixture("GET /v1/models", "llamacpp-v1-models.json");
  CliRun r = cli({"ai", "unload", "../models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "--llamacpp", s.url()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.err, HasSubstr("not supported by llama.cpp"));
}

TEST(AiPreload, SendsTheDocumentedRequestAndConfirms) {
  ReplayServer s;
  serve_ollama(s);
  s.on_fixture("POST /api/generate", "ollama-generate-load.json");
  CliRun r = cli({"ai", "preload", "qwen3:8b", "--keep-alive", "30m", "--num-ctx", "8192", "--ollama-host", s.url()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Loaded qwen3:8b in ollama"));
  auto gen = s.requests_to("POST", "/api/generate");
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(json::parse(gen[0].body),
            json::parse(R"({"model":"qwen3:8b","keep_alive":"30m","options":{"num_ctx":8192}})"));
  CliRun usage = cli({"ai", "preload", "x", "--keep-alive", "3 days", "--ollama-host", s.url()});
  EXPECT_EQ(usage.rc, 2);
  EXPECT_TRUE(s.requests_to("POST", "/api/generate").size() == 1u);
  CliRun vllm_only = cli({"ai", "preload", "x", "--runtime", "vllm", "--ollama-host", s.url()});
  EXPECT_EQ(vllm_only.rc, 1);
  EXPECT_THAT(vllm_only.err, HasSubstr("no vllm server answered"));
}

TEST(VramClear, DryRunSendsNothingAndSkipsPinned) {
  ReplayServer s;
  serve_ollama(s);
  CliRun r = cli({"vram", "clear", "--dry-run", "--ollama-host", s.url()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("skip    nomic-embed-text:latest (ollama): pinned with keep_alive -1"));
  EXPECT_THAT(r.out, HasSubstr("would unload qwen3:8b (ollama), frees about 7.0 GiB"));
  EXPECT_THAT(r.out, HasSubstr("would unload gemma3:27b (ollama), frees about 16.0 GiB"));
  EXPECT_THAT(r.out, HasSubstr("Would free about 23.0 GiB"));
  EXPECT_TRUE(s.requests_to("POST", "/api/generate").empty());
  expect_fits_80_columns(r.out);
}

TEST(VramClear, UnloadsEachIdleModel) {
  ReplayServer s;
  serve_ollama(s);
  s.on_fixture("POST /api/generate", "ollama-generate-unload.json");
  std::set<std::string> unloaded;
  s.on_request([&](const memopt::testing::Recorded& r) {
    if (r.path != "/api/generate") return;
    unloaded.insert(json::parse(r.body)["model"].get<std::string>());
    json ps = json::parse(fixture("ollama-ps.json"));
    json kept = json::array();
    for (const json& m : ps["models"]) {
      if (!unloaded.count(m["name"].get<std::string>())) kept.push_back(m);
    }
    ps["models"] = kept;
    s.on("GET /api/ps", 200, ps.dump());
  });
  CliRun r = cli({"--json", "vram", "clear", "--ollama-host", s.url(), "--wait", "3"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["schema"], "ruvector-memopt.vram-clear/1");
  EXPECT_EQ(doc["freed_by_runtime_bytes"], 7516192768ULL + 17179869184ULL);
  EXPECT_EQ(unloaded, (std::set<std::string>{"qwen3:8b", "gemma3:27b"}));
}

TEST(VramDefrag, SaysWhatItCanAndCannotDo) {
  ReplayServer llama, ollama;
  llama.on_fixture("GET /health", "llamacpp-health-ok.json");
  llama.on_fixture("GET /props", "llamacpp-props.json");
  serve_ollama(ollama);
  CliRun r = cli({"vram", "defrag", "--dry-run", "--llamacpp", llama.url(), "--ollama-host", ollama.url()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("No program can defragment another process's GPU heap"));
  EXPECT_THAT(r.out, HasSubstr("PyTorch and ONNX Runtime processes cannot be defragmented from outside"));
  EXPECT_THAT(r.out, HasSubstr("cannot  Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf (llama.cpp): no reload API"));
  EXPECT_THAT(r.out, HasSubstr("would reload qwen3:8b (ollama)"));
  expect_fits_80_columns(r.out);
}

TEST(VramDefrag, OllamaReloadWithTheSameContext) {
  ReplayServer s;
  serve_ollama(s);
  s.on_request([&](const memopt::testing::Recorded& r) {
    if (r.path != "/api/generate") return;
    json body = json::parse(r.body);
    if (body.contains("keep_alive") && body["keep_alive"] == 0) {
      s.on_fixture("POST /api/generate", "ollama-generate-unload.json");
      s.on("GET /api/ps", 200, ps_without("gemma3:27b"));
    } else {
      s.on_fixture("GET /api/ps", "ollama-ps.json");
    }
  });
  s.on_fixture("POST /api/generate", "ollama-generate-unload.json");
  CliRun r = cli({"vram", "defrag", "gemma3:27b", "--ollama-host", s.url(), "--wait", "3"});
  // The canned load answer says done_reason "unload", so the reload is
  // reported as failed: the check of the answer is real.
  auto gen = s.requests_to("POST", "/api/generate");
  ASSERT_EQ(gen.size(), 2u);
  EXPECT_EQ(json::parse(gen[0].body), json::parse(R"({"model":"gemma3:27b","keep_alive":0})"));
  json reload = json::parse(gen[1].body);
  EXPECT_EQ(reload["options"]["num_ctx"], 4096);
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.out, HasSubstr("FAILED   gemma3:27b (ollama)"));
  EXPECT_THAT(r.err, HasSubstr("1 reload(s) failed"));
}

TEST(AiBenchmark, DeadEndpointFailsFast) {
  int port;
  {
    ReplayServer gone;
    port = gone.port();
  }
  CliRun r = cli({"ai", "benchmark", "--endpoint", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.err, HasSubstr("connection refused"));
  EXPECT_LT(r.seconds, 3.0);  // a whole process run on a loaded machine
}

TEST(AiBenchmark, StreamErrorsAreCounted) {
  ReplayServer s;
  s.on("GET /v1/models", 200, R"({"data":[{"id":"m"}]})");
  s.on("POST /v1/chat/completions", 500, R"({"error":{"message":"out of memory"}})");
  CliRun r = cli({"--json", "ai", "benchmark", "--endpoint", s.url(), "--requests", "3"});
  EXPECT_EQ(r.rc, 1);
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["errors"], 3);
  EXPECT_THAT(doc["error_samples"][0].get<std::string>(), HasSubstr("HTTP 500: out of memory"));
}

// The real llama.cpp (node-llama-cpp) behind a minimal OpenAI-compatible server.
class RealLlamaServer {
 public:
  RealLlamaServer() {
    dir_ = fs::temp_directory_path() / ("memopt_rt_llama_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / memopt::testing::tiny_model_file_name(memopt::testing::TinyArch::kLlamaGqa)).string();
    if (!memopt::testing::write_tiny_model(memopt::testing::TinyArch::kLlamaGqa, model_)) return;
    std::string log = (dir_ / "server.log").string();
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::string script = std::string(MEMOPT_SOURCE_DIR) + "/tests/node/openai_server.mjs";
      execlp("node", "node", script.c_str(), "--model", model_.c_str(), "--sequences", "2", nullptr);
      _exit(127);
    }
    for (int i = 0; i < 600 && port_ == 0; ++i) {  // up to 60 s to load on a busy machine
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::string text = slurp(log);
      size_t at = text.find("LISTENING ");
      if (at != std::string::npos) port_ = std::atoi(text.c_str() + at + 10);
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = text;
        return;
      }
    }
  }
  ~RealLlamaServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  std::string model_, error_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST(AiBenchmark, RealLlamaCppThroughNode) {
  RealLlamaServer server;
  ASSERT_GT(server.port(), 0) << "node openai_server.mjs did not start: " << server.error();
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  CliRun r = cli({"--json", "ai", "benchmark", "--endpoint", url, "--requests", "4", "--concurrency", "2",
               "--max-tokens", "8", "--prompt-tokens", "4"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["api"], "openai");
  EXPECT_EQ(doc["model"], "tiny-llama-gqa.gguf");
  EXPECT_EQ(doc["ok"], 4);
  EXPECT_EQ(doc["completion_tokens"], 32);
  EXPECT_EQ(doc["inter_token_latency_s"]["n"], 28);
  EXPECT_GT(doc["tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(doc["ttft_s"]["p50"].get<double>(), 0.0);
  CliRun text = cli({"ai", "benchmark", "--endpoint", url, "--requests", "2", "--max-tokens", "4"});
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("TTFT (ms)"));
  expect_fits_80_columns(text.out);
  EXPECT_THAT(text.err, Not(HasSubstr("[")));  // no progress bar when stderr is not a terminal
}

}  // namespace

namespace {

// KV bytes of a plain (non-SWA) model: layers × kv_heads × (k + v) × 2 bytes
// per cell (research/runtime-apis.md §8), for `cells` cells.
uint64_t f16_kv_bytes(const memopt::gguf::ModelInfo& mi, uint64_t cells) {
  uint64_t per_cell = 0;
  for (uint32_t l = 0; l < mi.block_count; ++l) {
    per_cell += static_cast<uint64_t>(mi.head_count_kv[l]) * (mi.key_length + mi.value_length) * 2;
  }
  return per_cell * cells;
}

TEST(AiModels, KvBytesEstimatedFromTheGgufForLlamaCppAndOllama) {
  fs::path dir = fs::temp_directory_path() / ("memopt_rt_kv_" + std::to_string(getpid()));
  fs::create_directories(dir / "blobs");
  std::string gguf = (dir / "blobs" / "sha256-tiny").string();
  ASSERT_TRUE(memopt::testing::write_tiny_model(memopt::testing::TinyArch::kLlamaGqa, gguf));
  auto mi = memopt::testing::tiny_model_info(memopt::testing::TinyArch::kLlamaGqa);

  ReplayServer llama;
  json props = json::parse(fixture("llamacpp-props.json"));
  props["model_path"] = gguf;
  props["default_generation_settings"]["n_ctx"] = 512;
  props["total_slots"] = 2;
  llama.on("GET /props", 200, props.dump());
  llama.on_fixture("GET /health", "llamacpp-health-ok.json");
  CliRun r = cli({"--json", "ai", "models", "--llamacpp", llama.url()});
  ASSERT_EQ(r.rc, 0) << r.err;
  json kv = json::parse(r.out)["models"][0]["kv_cache"];
  EXPECT_EQ(kv["capacity_bytes"]["source"], "estimated");
  EXPECT_EQ(kv["capacity_bytes"]["value"].get<uint64_t>(), f16_kv_bytes(mi, 2 * 512));
  EXPECT_EQ(kv["capacity_tokens"]["value"], 1024);

  ReplayServer ollama;
  serve_ollama(ollama);
  json show = json::parse(fixture("ollama-show.json"));
  show["modelfile"] = "# Modelfile\nFROM " + gguf + "\nTEMPLATE x\n";
  ollama.on("POST /api/show", 200, show.dump());
  CliRun o = cli({"--json", "ai", "models", "--ollama-host", ollama.url()});
  ASSERT_EQ(o.rc, 0) << o.err;
  json gemma = json::parse(o.out)["models"][2];
  EXPECT_EQ(gemma["kv_cache"]["capacity_bytes"]["value"].get<uint64_t>(), f16_kv_bytes(mi, 4096));
  EXPECT_EQ(gemma["kv_cache"]["capacity_tokens"]["value"], 4096);
  EXPECT_EQ(gemma["kv_cache"]["capacity_tokens"]["source"], "estimated");
  // The show request named the model.
  EXPECT_EQ(json::parse(ollama.requests_to("POST", "/api/show")[2].body)["model"], "gemma3:27b");
  fs::remove_all(dir);
}

}  // namespace
