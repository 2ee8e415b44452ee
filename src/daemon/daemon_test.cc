#include "daemon/daemon.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "util/bytes.h"

namespace memopt::daemon {
namespace {

// Replays a fixed machine: one 24 GiB GPU and one idle Ollama model; a
// collector that fails every time, to show the others keep reporting.
class FakeSampler : public Sampler {
 public:
  Sample sample(double now) override {
    Sample s;
    s.unix_ms = 1'700'000'000'000 + static_cast<int64_t>(now * 1000);
    s.status = {{"schema", "ruvector-memopt.status/1"}, {"host", {{"total_bytes", 64 * kGiB}}}};
    s.input.now_seconds = now;
    s.input.host = {64 * kGiB, 40 * kGiB};
    policy::GpuState g;
    g.total_bytes = 24 * kGiB;
    g.used_bytes = 10 * kGiB;
    s.input.gpus = {g};
    policy::ModelState m;
    m.runtime = "ollama";
    m.name = "llama3.2:3b";
    m.endpoint = "http://127.0.0.1:1";
    m.gpu = 0;
    m.vram_bytes = 3 * kGiB;
    m.size_bytes = 3 * kGiB;
    m.idle_seconds = 1000;
    s.input.models = {m};
    s.errors.push_back({"flaky", "collector crashed"});
    return s;
  }
};

class RecordingActuator : public Actuator {
 public:
  Status apply(const policy::Action& a) override {
    applied.push_back(a.target);
    return Ok{};
  }
  Status preload(const std::string&, const std::string&, const std::string& model, const std::string&) override {
    applied.push_back("preload:" + model);
    return Ok{};
  }
  std::vector<std::string> applied;
};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/memopt_daemon_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    opts_.state_dir = dir_ + "/state";
    opts_.config_path = dir_ + "/config.toml";
    opts_.listen = "127.0.0.1:0";
    opts_.interval_seconds = 0.05;
  }
  void TearDown() override {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
    daemon_.reset();
    std::filesystem::remove_all(dir_);
  }
  void start() {
    auto act = std::make_unique<RecordingActuator>();
    actuator_ = act.get();
    daemon_ = std::make_unique<Daemon>(opts_, std::make_unique<FakeSampler>(), std::move(act));
    auto st = daemon_->start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    runner_ = std::thread([this] { daemon_->run(stop_); });
    // Wait (bounded) for the first samples, however loaded the machine is.
    for (int i = 0; i < 100; ++i) {
      auto r = client().Get("/api/v1/actions");
      if (r && r->status == 200 && nlohmann::json::parse(r->body)["actions"].size() > 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the daemon took no sample within 5 s";
  }
  std::string token() {
    std::ifstream in(opts_.state_dir + "/api_token");
    std::string t;
    in >> t;
    return t;
  }
  httplib::Client client() { return httplib::Client("127.0.0.1", daemon_->api_port()); }

  std::string dir_;
  DaemonOptions opts_;
  std::unique_ptr<Daemon> daemon_;
  RecordingActuator* actuator_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread runner_;
};

TEST_F(DaemonTest, ServesStatusMetricsHistoryAndActions) {
  start();
  auto c = client();
  auto st = c.Get("/api/v1/status");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, 200);
  auto j = nlohmann::json::parse(st->body);
  EXPECT_EQ(j["schema"], "ruvector-memopt.status/1");
  EXPECT_EQ(j["profile"], "local_llm");
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("ruvector_gpu_memory_used_bytes{gpu=\"0\",name=\"\"} 10737418240"), std::string::npos);
  // The failing collector is counted, the others still report.
  EXPECT_NE(m->body.find("ruvector_collector_errors_total{collector=\"flaky\"}"), std::string::npos);
  // Idle 1000 s > 300 s: one dry-run unload, counted and recorded.
  EXPECT_NE(m->body.find("ruvector_policy_actions_total{kind=\"unload\"} 1\n"), std::string::npos) << m->body;
  EXPECT_TRUE(actuator_->applied.empty());  // dry run
  auto a = c.Get("/api/v1/actions");
  ASSERT_TRUE(a);
  auto aj = nlohmann::json::parse(a->body);
  ASSERT_EQ(aj["actions"].size(), 1u);
  EXPECT_EQ(aj["actions"][0]["kind"], "unload");
  EXPECT_EQ(aj["actions"][0]["outcome"], "dry-run");
  auto h = c.Get("/api/v1/history?series=ruvector_gpu_memory_used_bytes&since=600");
  ASSERT_TRUE(h);
  auto hj = nlohmann::json::parse(h->body);
  ASSERT_EQ(hj["series"].size(), 1u);
  EXPECT_GE(hj["series"][0]["points"].size(), 1u);
  EXPECT_EQ(hj["series"][0]["points"][0][1], 10.0 * kGiB);
}

TEST_F(DaemonTest, PostsNeedTheTokenAndHostIsChecked) {
  start();
  auto c = client();
  auto no = c.Post("/api/v1/optimize", "{}", "application/json");
  ASSERT_TRUE(no);
  EXPECT_EQ(no->status, 401);
  httplib::Headers wrong = {{"Authorization", "Bearer " + std::string(64, '0')}};
  auto bad = c.Post("/api/v1/optimize", wrong, "{}", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  httplib::Headers ok = {{"Authorization", "Bearer " + token()}};
  auto good = c.Post("/api/v1/profile", ok, R"({"name":"image_generation"})", "application/json");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  auto st = c.Get("/api/v1/status");
  EXPECT_EQ(nlohmann::json::parse(st->body)["profile"], "image_generation");
  auto unknown = c.Post("/api/v1/profile", ok, R"({"name":"nope"})", "application/json");
  EXPECT_EQ(unknown->status, 404);
  auto junk = c.Post("/api/v1/unload", ok, "not json", "application/json");
  EXPECT_EQ(junk->status, 400);
  auto unload = c.Post("/api/v1/unload", ok, R"({"model":"llama3.2:3b"})", "application/json");
  ASSERT_TRUE(unload);
  EXPECT_EQ(unload->status, 200) << unload->body;
  ASSERT_EQ(actuator_->applied.size(), 1u);
  EXPECT_EQ(actuator_->applied[0], "ollama/llama3.2:3b");
  // DNS rebinding: a foreign Host (even with a valid token) is refused.
  httplib::Headers rebind = {{"Host", "evil.example:80"}};
  auto r = c.Get("/api/v1/status", rebind);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  httplib::Headers origin = {{"Origin", "http://evil.example"}};
  auto o = c.Get("/api/v1/status", origin);
  EXPECT_EQ(o->status, 403);
  httplib::Headers local = {{"Host", "localhost:" + std::to_string(daemon_->api_port())}};
  EXPECT_EQ(c.Get("/api/v1/status", local)->status, 200);
}

TEST_F(DaemonTest, TokenFileIsPrivateAndAWorldReadableOneIsRefused) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat((opts_.state_dir + "/api_token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  stop_ = true;
  runner_.join();
  daemon_.reset();
  ::chmod((opts_.state_dir + "/api_token").c_str(), 0644);
  Daemon d(opts_, std::make_unique<FakeSampler>(), std::make_unique<RecordingActuator>());
  auto r = d.start();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
}

TEST_F(DaemonTest, ProfileChosenFromTheCliIsPickedUpAtOnce) {
  start();
  ASSERT_TRUE(policy::set_active_profile(opts_.state_dir, "batch_inference").ok());
  std::string seen;
  for (int i = 0; i < 100 && seen != "batch_inference"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = nlohmann::json::parse(client().Get("/api/v1/status")->body)["profile"];
  }
  EXPECT_EQ(seen, "batch_inference");
}

// VRAM growing 1.5 GiB/s from 12 of 24 GiB (OOM 8 s after the start);
// records when it was sampled.
class GrowingSampler : public Sampler {
 public:
  explicit GrowingSampler(std::vector<double>* times) : times_(times) {}
  Sample sample(double now) override {
    times_->push_back(now);
    Sample s;
    s.unix_ms = 1'700'000'000'000 + static_cast<int64_t>(now * 1000);
    s.status = {{"schema", "ruvector-memopt.status/1"}};
    s.input.now_seconds = now;
    s.input.host = {64 * kGiB, 40 * kGiB};
    policy::GpuState g;
    g.total_bytes = 24 * kGiB;
    g.used_bytes = static_cast<uint64_t>((12 + 1.5 * now) * static_cast<double>(kGiB));
    s.input.gpus = {g};
    return s;
  }

 private:
  std::vector<double>* times_;
};

TEST_F(DaemonTest, SamplesFasterWhileAnOomIsForecast) {
  // At the default 1 s interval, the second sample's rise taken as a rate
  // puts OOM 7 s away, within reload + watch seconds (8): from then on the
  // daemon samples every 0.25 s.
  opts_.interval_seconds = 1.0;
  opts_.serve_api = false;
  opts_.max_samples = 9;
  std::vector<double> times;
  Daemon d(opts_, std::make_unique<GrowingSampler>(&times), std::make_unique<RecordingActuator>());
  ASSERT_TRUE(d.start().ok());
  EXPECT_TRUE(d.predictive());
  std::atomic<bool> stop{false};
  d.run(stop);
  ASSERT_EQ(times.size(), 9u);
  std::vector<double> gaps;
  for (size_t i = 1; i < times.size(); ++i) gaps.push_back(times[i] - times[i - 1]);
  EXPECT_GE(gaps[0], 0.9);  // one sample: nothing to go by yet
  std::vector<double> late(gaps.end() - 5, gaps.end());
  std::sort(late.begin(), late.end());
  EXPECT_LT(late[2], 0.5) << "median of the last five gaps";  // 0.25 s, however loaded the machine
  EXPECT_DOUBLE_EQ(d.next_interval_seconds(), 0.25);
}

TEST_F(DaemonTest, ThresholdModeFromTheConfig) {
  {
    std::ofstream c(opts_.config_path);
    c << "[daemon]\nmode = \"threshold\"\n";
  }
  opts_.serve_api = false;
  opts_.max_samples = 3;
  opts_.interval_seconds = 0.01;
  std::vector<double> times;
  Daemon d(opts_, std::make_unique<GrowingSampler>(&times), std::make_unique<RecordingActuator>());
  ASSERT_TRUE(d.start().ok());
  EXPECT_FALSE(d.predictive());
  std::atomic<bool> stop{false};
  d.run(stop);
  EXPECT_DOUBLE_EQ(d.next_interval_seconds(), 0.01);  // never faster than asked, never slower
}

TEST_F(DaemonTest, NonLoopbackListenMustBeAskedFor) {
  opts_.listen = "0.0.0.0:0";
  Daemon d(opts_, std::make_unique<FakeSampler>(), std::make_unique<RecordingActuator>());
  auto r = d.start();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--allow-remote"), std::string::npos);
}

TEST(ApiAuthTest, ListenParsingAndHostRules) {
  auto a = parse_listen("127.0.0.1:7878");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->loopback());
  auto v6 = parse_listen("[::1]:9");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->loopback());
  EXPECT_FALSE(parse_listen("0.0.0.0:80")->loopback());
  EXPECT_FALSE(parse_listen("nope").ok());
  EXPECT_FALSE(parse_listen("a:99999").ok());
  EXPECT_FALSE(parse_listen("a b:1").ok());
  auto hosts = allowed_hosts(*a, 7878);
  EXPECT_TRUE(host_allowed("127.0.0.1:7878", hosts));
  EXPECT_TRUE(host_allowed("LOCALHOST:7878", hosts));
  EXPECT_FALSE(host_allowed("127.0.0.1:7879", hosts));
  EXPECT_FALSE(host_allowed("", hosts));
  EXPECT_TRUE(origin_allowed("", hosts));
  EXPECT_TRUE(origin_allowed("http://localhost:7878", hosts));
  EXPECT_FALSE(origin_allowed("https://localhost:7878", hosts));
  EXPECT_TRUE(bearer_matches("Bearer abc", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer abd", "abc"));
  EXPECT_FALSE(bearer_matches("bearer abc", "abc"));
  EXPECT_FALSE(bearer_matches("Bearer ", ""));
}

}  // namespace
}  // namespace memopt::daemon
