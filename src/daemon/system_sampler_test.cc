#include "daemon/system_sampler.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace memopt::daemon {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(MEMOPT_FIXTURES_DIR) + "/runtimes/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A replay Ollama on loopback serving the recorded /api/ps payload; the
// expiry of qwen3:8b can be moved, as a request to it would.
class ReplayOllama {
 public:
  ReplayOllama() {
    body_ = fixture("ollama-ps.json");
    server_.Get("/api/ps", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      res.set_content(body_, "application/json");
    });
    server_.Post("/api/show", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content(R"({"error":"not in this replay"})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ReplayOllama() {
    server_.stop();
    thread_.join();
  }
  void touch_qwen() {
    std::lock_guard<std::mutex> l(mu_);
    auto j = nlohmann::json::parse(body_);
    for (auto& m : j["models"]) {
      if (m["name"] == "qwen3:8b") m["expires_at"] = "2099-01-01T00:00:00Z";
    }
    body_ = j.dump();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  std::string body_;
  int port_ = 0;
};

SamplerOptions options(int ollama_port, const std::string& sys_root) {
  SamplerOptions o;
  o.sys_root = sys_root;
  o.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  o.probe_ports = false;
  o.detect_interval_seconds = 3600;
  o.endpoints = {"ollama=http://127.0.0.1:" + std::to_string(ollama_port)};
  return o;
}

// daemon --serve: the sampler reads the GPUs through the collector it is
// given (the one the gateway shares), not one of its own at its roots.
TEST(SystemSamplerTest, ReadsTheGpusThroughASharedCollector) {
  ReplayOllama ollama;
  const std::string amd = std::string(MEMOPT_FIXTURES_DIR) + "/gpu/amd";
  auto shared = std::make_shared<gpu::GpuCollector>(
      gpu::GpuRoots{amd + "/proc", amd + "/sys", "/nonexistent/libnvidia-ml.so.1"});
  SamplerOptions o = options(ollama.port(), "/nonexistent-sys");  // no GPU at its own roots
  o.gpus = shared;
  auto sampler = make_system_sampler(o);
  Sample s = sampler->sample(100, {});
  ASSERT_EQ(s.snapshot.gpus.size(), 1u);
  EXPECT_EQ(s.snapshot.gpus[0].name, "AMD GPU [1002:744C]");
  EXPECT_EQ(s.snapshot.gpus[0].memory_total_bytes, 25753026560u);
  EXPECT_EQ(shared->samples(), 1u);
  shared->sample();  // the gateway's read in between
  sampler->sample(101, {});
  EXPECT_EQ(shared->samples(), 3u);
  // Without one, it reads its own roots: no GPU there.
  auto alone = make_system_sampler(options(ollama.port(), "/nonexistent-sys"));
  EXPECT_TRUE(alone->sample(100, {}).snapshot.gpus.empty());
}

// daemon --serve: the gateway's section comes from the in-process gateway's
// document, read each sample; nothing listens at its address (a read over
// HTTP would say "not reachable").
TEST(SystemSamplerTest, ReadsTheInProcessGatewayWithoutHttp) {
  ReplayOllama ollama;
  std::ifstream in(std::string(MEMOPT_FIXTURES_DIR) + "/serve/serve-state.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const nlohmann::json doc = nlohmann::json::parse(ss.str());
  int reads = 0;
  SamplerOptions o = options(ollama.port(), "/nonexistent-sys");
  o.gateway = assembler::GatewayTarget{"127.0.0.1:1", "", ""};
  o.gateway_state = [&] {
    ++reads;
    return doc;
  };
  auto sampler = make_system_sampler(o);
  Sample s = sampler->sample(100, {});
  ASSERT_TRUE(s.snapshot.gateway.has_value());
  EXPECT_TRUE(s.snapshot.gateway->reachable) << s.snapshot.gateway->error;
  EXPECT_EQ(s.snapshot.gateway->listen, "127.0.0.1:1");
  ASSERT_EQ(s.snapshot.gateway->models.size(), doc["models"].size());
  EXPECT_EQ(s.snapshot.gateway->models[0].name, doc["models"][0]["name"].get<std::string>());
  sampler->sample(101, {});
  EXPECT_EQ(reads, 2);
  // A document it cannot read is the section's error, named as in process.
  o.gateway_state = [] { return nlohmann::json::array(); };
  auto bad = make_system_sampler(o)->sample(100, {});
  ASSERT_TRUE(bad.snapshot.gateway.has_value());
  EXPECT_FALSE(bad.snapshot.gateway->reachable);
  EXPECT_EQ(bad.snapshot.gateway->error.rfind("the in-process gateway: ", 0), 0u)
      << bad.snapshot.gateway->error;
  // Without it, the address is asked over HTTP: nothing answers there.
  o.gateway_state = nullptr;
  auto http = make_system_sampler(o)->sample(100, {});
  ASSERT_TRUE(http.snapshot.gateway.has_value());
  EXPECT_FALSE(http.snapshot.gateway->reachable);
}

TEST(SystemSamplerTest, ReportsRuntimeModelsAndTracksIdleTime) {
  ReplayOllama ollama;
  auto sampler = make_system_sampler(options(ollama.port(), "/nonexistent-sys"));
  Sample s0 = sampler->sample(100, {});
  ASSERT_GE(s0.input.models.size(), 2u);
  const policy::ModelState* qwen = nullptr;
  const policy::ModelState* nomic = nullptr;
  for (const auto& m : s0.input.models) {
    if (m.name == "qwen3:8b") qwen = &m;
    if (m.name == "nomic-embed-text:latest") nomic = &m;
  }
  ASSERT_NE(qwen, nullptr);
  ASSERT_NE(nomic, nullptr);
  EXPECT_EQ(qwen->runtime, "ollama");
  EXPECT_EQ(qwen->size_bytes, 7516192768u);
  EXPECT_TRUE(nomic->pinned);  // expires in 2318: keep_alive -1
  EXPECT_FALSE(qwen->pinned);
  EXPECT_GT(s0.input.host.total_bytes, 0u);  // real /proc/meminfo
  EXPECT_GE(s0.snapshot.loaded_models.size(), 2u);
  // 50 s later, untouched: idle 50 s. Then a request moves its expiry: 0.
  Sample s1 = sampler->sample(150, {});
  for (const auto& m : s1.input.models) {
    if (m.name == "qwen3:8b") {
      EXPECT_EQ(m.idle_seconds, 50);
    }
  }
  ollama.touch_qwen();
  Sample s2 = sampler->sample(160, {});
  for (const auto& m : s2.input.models) {
    if (m.name == "qwen3:8b") {
      EXPECT_EQ(m.idle_seconds, 0);
    }
    if (m.name == "nomic-embed-text:latest") {
      EXPECT_EQ(m.idle_seconds, 60);
    }
  }
}

TEST(SystemSamplerTest, AFailingCollectorDoesNotStopTheOthers) {
  ReplayOllama ollama;
  SamplerOptions o = options(ollama.port(), "/nonexistent-sys");
  o.proc_root = "/nonexistent-proc";  // host memory and the scan fail
  auto sampler = make_system_sampler(o);
  Sample s = sampler->sample(1, {});
  bool host_failed = false;
  for (const auto& e : s.snapshot.errors) {
    if (e.collector == "host") {
      host_failed = true;
      EXPECT_NE(e.message.find("/nonexistent-proc"), std::string::npos) << e.message;
    }
  }
  EXPECT_TRUE(host_failed);
  EXPECT_GE(s.input.models.size(), 2u);  // the runtimes collector still ran
}

}  // namespace
}  // namespace memopt::daemon
