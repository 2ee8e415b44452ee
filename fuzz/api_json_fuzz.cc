// libFuzzer target: the daemon's POST bodies through the real handlers
// (Daemon::api_handlers(), as the API server calls them through
// dispatch_post): whatever the bytes, a status in 200-599 and a JSON reply,
// never an exception, a crash or a 500 (a 500 means a type check is missing;
// issue 13, finding 6). The first byte picks the endpoint.
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "daemon/api.h"
#include "daemon/daemon.h"
#include "util/bytes.h"

namespace {

using memopt::daemon::Sample;

// One GPU, one idle model: enough for every handler to reach its actions.
class FuzzSampler : public memopt::daemon::Sampler {
 public:
  Sample sample(double now, const memopt::policy::DaemonKnowledge&) override {
    Sample s;
    s.unix_ms = 1'700'000'000'000 + static_cast<int64_t>(now * 1000);
    s.input.now_seconds = now;
    s.input.host = {64 * memopt::kGiB, 40 * memopt::kGiB};
    memopt::policy::GpuState g;
    g.total_bytes = 24 * memopt::kGiB;
    g.used_bytes = 23 * memopt::kGiB;
    s.input.gpus = {g};
    memopt::policy::ModelState m;
    m.runtime = "ollama";
    m.name = "llama3.2:3b";
    m.gpu = 0;
    m.vram_bytes = 3 * memopt::kGiB;
    m.idle_seconds = 1000;
    s.input.models = {m};
    return s;
  }
};

// Acts on nothing: the fuzzer must not reach a runtime.
class NullActuator : public memopt::actuator::Actuator {
 public:
  memopt::Status apply(const memopt::policy::Action&) override { return memopt::Ok{}; }
  memopt::Status preload(const std::string&, const std::string&, const std::string&,
                         const std::string&) override {
    return memopt::Ok{};
  }
};

struct Harness {
  std::string dir;
  std::unique_ptr<memopt::daemon::Daemon> daemon;
  memopt::daemon::ApiHandlers handlers;

  Harness() {
    char tmpl[] = "/tmp/memopt_api_fuzz_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    memopt::daemon::DaemonOptions o;
    o.state_dir = dir + "/state";
    o.config_path = dir + "/config.toml";
    o.serve_api = false;
    o.max_samples = 1;
    o.interval_seconds = 0.01;
    daemon = std::make_unique<memopt::daemon::Daemon>(o, std::make_unique<FuzzSampler>(),
                                                      std::make_unique<NullActuator>());
    if (auto st = daemon->start(); !st) {
      std::fprintf(stderr, "api_json_fuzz: %s\n", st.error().message.c_str());
      std::abort();
    }
    std::atomic<bool> stop{false};
    daemon->run(stop);  // one sample, so the handlers see a model
    handlers = daemon->api_handlers();
  }
  ~Harness() {
    daemon.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness h;
  if (size == 0) return 0;
  static const char* const kPaths[] = {"/api/v1/unload", "/api/v1/preload", "/api/v1/profile",
                                       "/api/v1/optimize"};
  const std::string path = kPaths[data[0] % 4];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  const memopt::daemon::ApiReply r = memopt::daemon::dispatch_post(h.handlers, path, body);
  if (r.status < 200 || r.status > 599 || r.status == 500) {
    std::fprintf(stderr, "api_json_fuzz: %s answered %d: %s\n", path.c_str(), r.status,
                 r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::abort();
  }
  (void)r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
