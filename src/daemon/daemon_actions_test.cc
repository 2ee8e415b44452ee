// The daemon's actions run off the sampling thread (issue 14): a replayed
// Ollama whose reload takes 10 s, the real actuator and HTTP client, and the
// API asked while the reload is in flight.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "daemon/daemon.h"
#include "util/bytes.h"

namespace memopt::daemon {
namespace {

constexpr double kReloadSeconds = 10;

// Ollama's /api/generate, answering a load after kReloadSeconds, as a large
// model's reload does; counts the calls.
class SlowOllama {
 public:
  SlowOllama() {
    svr_.Post("/api/generate", [this](const httplib::Request& req, httplib::Response& res) {
      calls++;
      auto body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_object() && body.contains("options") && body["options"].contains("num_ctx")) {
        num_ctx = body["options"]["num_ctx"].get<int>();
        numa = body["options"].value("numa", false);
      }
      in_flight = true;
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(static_cast<int>(kReloadSeconds * 1000));
      while (!stopping && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      reloaded = true;
      in_flight = false;
      res.set_content(R"({"model":"qwen:14b","done":true,"done_reason":"load"})",
                      "application/json");
    });
    port = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 500 && !svr_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~SlowOllama() {
    stopping = true;
    svr_.stop();
    thread_.join();
  }
  std::atomic<int> calls{0};
  std::atomic<int> num_ctx{0};
  std::atomic<bool> numa{false};
  std::atomic<bool> in_flight{false};
  std::atomic<bool> reloaded{false};
  std::atomic<bool> stopping{false};
  int port = 0;

 private:
  httplib::Server svr_;
  std::thread thread_;
};

// One model whose 8 GiB KV cache (over kv_cache_limit_percent of a 24 GiB
// GPU) peaked at 1 GiB: the policy right-sizes its context. Once the
// replayed runtime has reloaded it, the model holds 7 GiB less, as the
// runtime would report.
class OneModelSampler : public Sampler {
 public:
  OneModelSampler(const SlowOllama* rt) : rt_(rt) {}
  Sample sample(double now, const policy::DaemonKnowledge&) override {
    Sample s;
    s.unix_ms = 1'700'000'000'000 + static_cast<int64_t>(now * 1000);
    s.input.now_seconds = now;
    s.input.host = {64 * kGiB, 40 * kGiB};
    policy::GpuState g;
    g.total_bytes = 24 * kGiB;
    g.used_bytes = 12 * kGiB;
    policy::ModelState m;
    m.runtime = "ollama";
    m.name = "qwen:14b";
    m.endpoint = "http://127.0.0.1:" + std::to_string(rt_->port);
    m.gpu = 0;
    m.context_length = 32768;
    m.kv_capacity_bytes = 8 * kGiB;
    m.kv_peak_bytes = 1 * kGiB;
    m.vram_bytes = 12 * kGiB;
    if (rt_->reloaded) {
      m.context_length = 5120;
      m.kv_capacity_bytes = 1280 * kMiB;
      m.kv_peak_bytes = 1 * kGiB;
      m.vram_bytes = 12 * kGiB - 8 * kGiB + 1280 * kMiB;
      g.used_bytes -= 8 * kGiB - 1280 * kMiB;
    }
    m.size_bytes = m.vram_bytes;
    s.input.gpus = {g};
    s.input.models = {m};
    return s;
  }

 private:
  const SlowOllama* rt_;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

TEST(DaemonActionsTest, TheApiAnswersWhileASlowReloadIsInFlightAndTheDelayIsLearned) {
  char tmpl[] = "/tmp/memopt_daemon_actions_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  SlowOllama ollama;
  DaemonOptions o;
  o.state_dir = dir + "/state";
  o.config_path = dir + "/config.toml";
  o.listen = "127.0.0.1:0";
  o.interval_seconds = 0.1;
  o.apply = true;
  // A cooldown far shorter than the reload: only the in-flight action keeps
  // the engine from asking for the same reload again.
  policy::PolicyTuning t;
  t.target_cooldown_seconds = 0.5;
  o.tuning = t;
  std::atomic<bool> stop{false};
  {
    Daemon d(o, std::make_unique<OneModelSampler>(&ollama), actuator::make_runtime_actuator());
    ASSERT_TRUE(d.start().ok());
    std::thread runner([&] { d.run(stop); });
    // Joined however the test leaves this scope (an ASSERT returns early).
    struct Join {
      std::atomic<bool>& stop;
      std::thread& t;
      ~Join() {
        stop = true;
        if (t.joinable()) t.join();
      }
    } join{stop, runner};
    std::ifstream tf(o.state_dir + "/api_token");
    std::string token;
    tf >> token;
    httplib::Client c("127.0.0.1", d.api_port());
    c.set_read_timeout(std::chrono::seconds(5));
    const httplib::Headers auth = {{"Authorization", "Bearer " + token}};
    for (int i = 0; i < 300 && !ollama.in_flight; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(ollama.in_flight) << "the policy did not start the reload within 6 s";
    const auto started = std::chrono::steady_clock::now();
    // Ask the API repeatedly during the reload's 10 s.
    std::vector<double> answers_ms;
    uint64_t samples_first = 0, samples_last = 0;
    while (ollama.in_flight && ms_since(started) < 8000) {
      for (const char* path : {"/api/v1/status", "/metrics", "/healthz"}) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = c.Get(path, auth);
        answers_ms.push_back(ms_since(t0));
        ASSERT_TRUE(r) << path;
        EXPECT_EQ(r->status, 200) << path << " " << r->body;
        if (std::string(path) == "/metrics" && ollama.in_flight) {
          EXPECT_NE(r->body.find("ruvector_actions_in_flight 1\n"), std::string::npos);
          const std::string name = "\nruvector_daemon_samples_total ";
          const auto at = r->body.find(name);
          ASSERT_NE(at, std::string::npos);
          const uint64_t n = std::stoull(r->body.substr(at + name.size()));
          if (samples_first == 0) samples_first = n;
          samples_last = n;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    ASSERT_GE(answers_ms.size(), 30u);
    std::vector<double> sorted = answers_ms;
    std::sort(sorted.begin(), sorted.end());
    // Every answer well inside 100 ms (typically about 1 ms), never held
    // for the reload.
    EXPECT_LT(sorted[sorted.size() / 2], 100) << "median answer";
    EXPECT_LT(sorted[sorted.size() * 9 / 10], 100) << "90th percentile answer";
    EXPECT_LT(sorted.back(), 1000) << "slowest answer";
    std::cout << "API answers during the reload: " << sorted.size() << ", median "
              << sorted[sorted.size() / 2] << " ms, slowest " << sorted.back() << " ms\n";
    // Sampling went on during the reload (10 a second; at least half).
    EXPECT_GE(samples_last - samples_first, 30u);
    // The reload completes; the engine never asked for it a second time.
    for (int i = 0; i < 400 && !ollama.reloaded; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE(ollama.reloaded);
    EXPECT_EQ(ollama.calls, 1);
    EXPECT_EQ(ollama.num_ctx, 5120);
    EXPECT_TRUE(ollama.numa);  // local_llm's numa_aware, through Ollama's reload options
    nlohmann::json actions;
    std::string metrics;
    for (int i = 0; i < 100; ++i) {
      auto a = c.Get("/api/v1/actions", auth);
      auto m = c.Get("/metrics", auth);
      if (a && m) {
        actions = nlohmann::json::parse(a->body);
        metrics = m->body;
        if (actions["actions"].size() == 1 &&
            metrics.find("ruvector_action_delays_measured_total 1\n") != std::string::npos) {
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(actions["actions"].size(), 1u) << actions.dump();
    EXPECT_EQ(actions["actions"][0]["kind"], "resize_context");
    EXPECT_EQ(actions["actions"][0]["outcome"], "ok");
    EXPECT_EQ(actions["actions"][0]["applied"], true);
    ASSERT_NE(metrics.find("ruvector_action_delays_measured_total 1\n"), std::string::npos)
        << metrics;
    // The learned delay: from the decision to the model holding less, the
    // reload's 10 s and at most a few samples more.
    const std::string key =
        "ruvector_action_delay_seconds{runtime=\"ollama\",kind=\"resize_context\","
        "size_min_bytes=\"8589934592\",quantile=\"0.5\"} ";
    const auto at = metrics.find(key);
    ASSERT_NE(at, std::string::npos) << metrics;
    const double learned = std::stod(metrics.substr(at + key.size()));
    EXPECT_GE(learned, kReloadSeconds);
    EXPECT_LT(learned, kReloadSeconds + 3);
  }
  // The delay is in the history: a restarted daemon starts with it.
  {
    auto h = History::open(dir + "/state/history.db");
    ASSERT_TRUE(h.ok()) << h.error().message;
    auto recs = (*h)->recent_delays(10);
    ASSERT_TRUE(recs.ok());
    ASSERT_EQ(recs->size(), 1u);
    EXPECT_EQ((*recs)[0].runtime, "ollama");
    EXPECT_EQ((*recs)[0].kind, "resize_context");
    EXPECT_EQ((*recs)[0].model_bytes, 12 * kGiB);
    EXPECT_GE((*recs)[0].call_seconds, kReloadSeconds - 0.1);
    EXPECT_GE((*recs)[0].freed_seconds, (*recs)[0].call_seconds);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace memopt::daemon
