#include "daemon/daemon.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "assembler/gateway_collector.h"
#include "plan/model_plan.h"
#include "support/gguf_models.h"
#include "util/bytes.h"

namespace memopt::daemon {
namespace {

// Replays a fixed machine: one 24 GiB GPU and one idle Ollama model; a
// collector that fails every time, to show the others keep reporting.
class FakeSampler : public Sampler {
 public:
  Sample sample(double now, const policy::DaemonKnowledge&) override {
    Sample s;
    s.unix_ms = 1'700'000'000'000 + static_cast<int64_t>(now * 1000);
    s.snapshot.host.meminfo.total_bytes = 64 * kGiB;
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
    s.snapshot.errors.push_back({"flaky", "collector crashed"});
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
  Sample sample(double now, const policy::DaemonKnowledge&) override {
    times_->push_back(now);
    Sample s;
    s.unix_ms = 1'700'000'000'000 + static_cast<int64_t>(now * 1000);
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

// A llama-server (one model, 8192 tokens) that starts, grows to 5 GiB on
// GPU 0 and exits; then the same program starts again under a new pid. The
// input is made the daemon's way (to_policy_input with what it knows), and
// each call records what the daemon handed over.
class RunsSampler : public Sampler {
 public:
  struct Seen {
    size_t profiles = 0;
    std::vector<policy::AnnouncedLoad> announced;
  };
  explicit RunsSampler(std::vector<Seen>* seen, int first_call = 0)
      : seen_(seen), call_(first_call) {}
  Sample sample(double now, const policy::DaemonKnowledge& k) override {
    static const uint64_t kVram[] = {0, 1 * kGiB, 3 * kGiB, 5 * kGiB, 5 * kGiB};
    const int i = call_++;
    Sample s;
    s.unix_ms = 1'700'000'000'000 + static_cast<int64_t>(now * 1000);
    gpu::GpuDevice g;
    g.name = "Fixture GPU";
    g.memory_total_bytes = 24 * kGiB;
    g.memory_used_bytes = 2 * kGiB;
    snapshot::Workload w;
    w.runtime = "llama.cpp";
    w.runtime_name = "llama.cpp";
    w.command = "llama-server";
    w.model_files = {"/models/qwen3-8b-q4_k_m.gguf"};
    w.model = "qwen3-8b-q4_k_m.gguf";
    w.context_tokens = 8192;
    if (i >= 1 && i <= 5) {  // the first run: calls 1..5, gone at 6 and 7
      w.pid = 4242;
      w.vram = {{0, kVram[i - 1]}};
    } else if (i >= 8) {  // the second run starts small
      w.pid = 4343;
      w.vram = {{0, 512 * kMiB}};
    }
    if (w.pid) {
      w.vram_bytes = w.vram.front().used_bytes;
      *g.memory_used_bytes += w.vram_bytes;
      s.snapshot.workloads.push_back(w);
    }
    s.snapshot.gpus.push_back(g);
    s.snapshot.host.meminfo.total_bytes = 64 * kGiB;
    s.snapshot.host.meminfo.available_bytes = 40 * kGiB;
    s.input = policy::to_policy_input(s.snapshot, now, k);
    seen_->push_back({k.profiles.size(), s.input.announced});
    return s;
  }

 private:
  std::vector<Seen>* seen_;
  int call_;
};

TEST_F(DaemonTest, LearnsAFinishedRunAndAnnouncesItsPeakWhenItStartsAgain) {
  opts_.serve_api = false;
  opts_.max_samples = 10;
  opts_.interval_seconds = 0.01;
  std::vector<RunsSampler::Seen> seen;
  {
    Daemon d(opts_, std::make_unique<RunsSampler>(&seen), std::make_unique<RecordingActuator>());
    ASSERT_TRUE(d.start().ok());
    std::atomic<bool> stop{false};
    d.run(stop);
    ASSERT_EQ(seen.size(), 10u);
    // Nothing learned while the first run lives, nor in its first absence.
    for (size_t i = 0; i <= 7; ++i) EXPECT_EQ(seen[i].profiles, 0u) << "call " << i;
    // Gone twice (calls 6 and 7): learned; the next input carries it, and
    // the second run is announced at the first run's peak from its start.
    EXPECT_EQ(seen[8].profiles, 1u);
    const auto& a = seen[8].announced;
    auto profile = std::find_if(a.begin(), a.end(), [](auto& x) { return x.source == "profile"; });
    ASSERT_NE(profile, a.end());
    EXPECT_EQ(profile->pid, 4343);
    EXPECT_EQ(profile->gpu, 0);
    EXPECT_EQ(profile->bytes, 5 * kGiB);
    EXPECT_EQ(profile->resident_bytes, 512 * kMiB);
    EXPECT_EQ(profile->runs, 1u);
    // The status document shows what the workload is expected to reach.
    auto st = d.api_handlers().status();
    ASSERT_EQ(st.status, 200);
    const auto& w = st.body["workloads"].at(0);
    EXPECT_EQ(w["pid"], 4343);
    EXPECT_EQ(w["learned_peak"]["peak_bytes"], 5 * kGiB);
    EXPECT_EQ(w["learned_peak"]["runs"], 1);
    EXPECT_EQ(w["learned_peak"]["gpu"], 0);
    EXPECT_NE(d.api_handlers().metrics().find("\nruvector_workload_profiles 1\n"),
              std::string::npos);
  }
  // Kept in the history: a restarted daemon knows it from its first sample.
  std::vector<RunsSampler::Seen> again;
  opts_.max_samples = 1;
  Daemon d2(opts_, std::make_unique<RunsSampler>(&again, 8), std::make_unique<RecordingActuator>());
  ASSERT_TRUE(d2.start().ok());
  std::atomic<bool> stop{false};
  d2.run(stop);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].profiles, 1u);
  auto st = d2.api_handlers().status();
  EXPECT_EQ(st.body["workloads"].at(0)["learned_peak"]["peak_bytes"], 5 * kGiB);
}

// The gateway admitted a 12 GiB model on GPU 0 and is starting it (its
// /serve/state says "loading"), while an Ollama model idle for 200 s (under
// the profile's idle limit) holds 6 GiB and 14 of 24 GiB are in use: 26 GiB
// once the load lands. The daemon reads the gateway's document the way the
// collector does, and the engine frees memory before the load takes it;
// with the same document saying "ready" (the load landed: the GPU's counter
// shows it), nothing more is announced.
class GatewaySampler : public Sampler {
 public:
  GatewaySampler(std::string state, std::vector<std::vector<policy::AnnouncedLoad>>* seen)
      : state_(std::move(state)), seen_(seen) {}
  Sample sample(double now, const policy::DaemonKnowledge& k) override {
    Sample s;
    s.unix_ms = 1'700'000'000'000 + static_cast<int64_t>(now * 1000);
    gpu::GpuDevice g;
    g.memory_total_bytes = 24 * kGiB;
    g.memory_used_bytes = 14 * kGiB;
    s.snapshot.gpus = {g};
    s.snapshot.host.meminfo.total_bytes = 64 * kGiB;
    s.snapshot.host.meminfo.available_bytes = 40 * kGiB;
    snapshot::Workload ollama;
    ollama.runtime = "ollama";
    ollama.pid = 900;
    ollama.pids = {900};
    ollama.endpoint = "http://127.0.0.1:11434";
    ollama.vram = {{0, 6 * kGiB}};
    ollama.vram_bytes = 6 * kGiB;
    s.snapshot.workloads = {ollama};
    runtimes::LoadedModel m;
    m.runtime = runtimes::RuntimeKind::kOllama;
    m.name = "idle:7b";
    m.endpoint = ollama.endpoint;
    m.state = "loaded";
    m.size_bytes = m.vram_bytes = 6 * kGiB;
    m.idle_seconds = 200;
    m.n_layers = 33;
    s.snapshot.loaded_models = {m};
    const auto doc = nlohmann::json::parse(R"({"schema": "ruvector-memopt.serve-state/1",
      "devices": [{"device": "GPU 0", "budget_bytes": 21474836480,
                   "planned_bytes": 12884901888, "gpu": 0}],
      "models": [{"name": "qwen-b", "state": ")" + state_ + R"(",
                  "planned_bytes": [12884901888], "in_flight": 0, "queued": 1}]})");
    snapshot::GatewayStatus gw;
    EXPECT_TRUE(assembler::read_serve_state(doc, gw));
    gw.reachable = true;
    s.snapshot.gateway = gw;
    s.input = policy::to_policy_input(s.snapshot, now, k);
    seen_->push_back(s.input.announced);
    return s;
  }

 private:
  std::string state_;
  std::vector<std::vector<policy::AnnouncedLoad>>* seen_;
};

TEST_F(DaemonTest, AGatewayLoadIsKnownBeforeItLandsAndActedOn) {
  opts_.serve_api = false;
  opts_.max_samples = 2;
  opts_.interval_seconds = 0.01;
  for (const std::string state : {"loading", "ready"}) {
    SCOPED_TRACE(state);
    opts_.state_dir = dir_ + "/state-" + state;  // each run's own history of actions
    std::vector<std::vector<policy::AnnouncedLoad>> seen;
    Daemon d(opts_, std::make_unique<GatewaySampler>(state, &seen),
             std::make_unique<RecordingActuator>());
    ASSERT_TRUE(d.start().ok());
    std::atomic<bool> stop{false};
    d.run(stop);
    ASSERT_EQ(seen.size(), 2u);
    auto actions = d.api_handlers().actions({});
    ASSERT_EQ(actions.status, 200);
    const auto& list = actions.body["actions"];
    if (state == "ready") {
      EXPECT_TRUE(seen[0].empty());
      EXPECT_EQ(list.size(), 0u) << list.dump();
      continue;
    }
    ASSERT_EQ(seen[0].size(), 1u);
    EXPECT_EQ(seen[0][0].source, "gateway");
    EXPECT_EQ(seen[0][0].model, "qwen-b");
    EXPECT_EQ(seen[0][0].gpu, 0);
    EXPECT_EQ(seen[0][0].bytes, 12 * kGiB);
    EXPECT_EQ(seen[0][0].remaining_bytes(), 12 * kGiB);
    ASSERT_GE(list.size(), 1u);
    EXPECT_EQ(list[0]["kind"], "unload");
    EXPECT_EQ(list[0]["model"], "idle:7b");
    EXPECT_EQ(list[0]["outcome"], "dry-run");
  }
}

TEST_F(DaemonTest, ADamagedProfilesDocumentCostsWhatWasLearnedNotTheDaemon) {
  opts_.serve_api = false;
  opts_.max_samples = 1;
  {
    auto h = History::open(dir_ + "/history.db");
    ASSERT_TRUE(h.ok()) << h.error().message;
    ASSERT_TRUE((*h)->write_document("workload_profiles", "[{\"runtime\": 7}]").ok());
  }
  opts_.history_path = dir_ + "/history.db";
  std::vector<RunsSampler::Seen> seen;
  Daemon d(opts_, std::make_unique<RunsSampler>(&seen, 8), std::make_unique<RecordingActuator>());
  ASSERT_TRUE(d.start().ok());
  std::atomic<bool> stop{false};
  d.run(stop);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].profiles, 0u);
  EXPECT_TRUE(d.api_handlers().status().body["workloads"].at(0)["learned_peak"].is_null());
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

// A client that sends its request one header line at a time, a line every
// `gap`: under a per-read timeout it never times out (issue 13, finding 1).
class SlowClient {
 public:
  explicit SlowClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    send_line("GET /api/v1/status HTTP/1.1");
  }
  ~SlowClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send_line(const std::string& l) {
    const std::string b = l + "\r\n";
    return ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size());
  }
  // What the server said before closing (empty while it keeps waiting).
  std::string answer(int wait_ms) {
    timeval tv{wait_ms / 1000, (wait_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[512];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST_F(DaemonTest, SlowClientsDoNotStarveMetricsAndTheRequestHasOneDeadline) {
  opts_.api_limits.request_deadline_seconds = 1.5;
  start();
  // Twice as many slow clients as the old pool had threads, each sending a
  // header line every 300 ms: well inside any per-read timeout.
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<SlowClient>(daemon_->api_port()));
    ASSERT_TRUE(slow.back()->connected());
  }
  std::atomic<bool> done{false};
  std::thread drip([&] {
    for (int k = 0; !done && k < 30; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      for (auto& c : slow) c->send_line("X-Drip: " + std::to_string(k));
    }
  });
  auto c = client();
  c.set_read_timeout(2, 0);
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto m = c.Get("/metrics");
    ASSERT_TRUE(m) << "/metrics did not answer with 8 slow clients connected";
    EXPECT_EQ(m->status, 200);
    EXPECT_LT(seconds_since(t0), 0.5);
    auto h = c.Get("/healthz");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->body, "ok\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The whole request had 1.5 s: the drip is cut with a 408, though no
  // single read ever waited more than 300 ms.
  const std::string said = slow[0]->answer(3000);
  done = true;
  drip.join();
  EXPECT_EQ(said.rfind("HTTP/1.1 408", 0), 0u) << said;
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("ruvector_api_connections_total{outcome=\"timed_out\"} 8"),
            std::string::npos)
      << m->body;
}

TEST_F(DaemonTest, StopDoesNotWaitForIdleOrSlowClients) {
  start();
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (int i = 0; i < 6; ++i) slow.push_back(std::make_unique<SlowClient>(daemon_->api_port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  stop_ = true;
  runner_.join();
  daemon_.reset();
  EXPECT_LT(seconds_since(t0), 1.0) << "shutdown waited for clients";
}

TEST_F(DaemonTest, AClientPastItsShareLosesItsOldestUnfinishedRequest) {
  opts_.api_limits.max_per_client = 4;
  start();
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (int i = 0; i < 4; ++i) slow.push_back(std::make_unique<SlowClient>(daemon_->api_port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // A fifth connection from the same address: the oldest slow one goes.
  auto m = client().Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(slow[0]->answer(1000).rfind("HTTP/1.1 503", 0), 0u);
  EXPECT_NE(m->body.find("ruvector_api_connections_total{outcome=\"evicted\"} 1"),
            std::string::npos)
      << m->body;
}

TEST_F(DaemonTest, WrongJsonTypesAre400sNamingTheField) {
  start();
  auto c = client();
  httplib::Headers ok = {{"Authorization", "Bearer " + token()}};
  auto r = c.Post("/api/v1/optimize", ok, R"({"apply":"yes"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"],
            "field \"apply\" must be true or false, not string");
  r = c.Post("/api/v1/unload", ok, R"({"model":"llama3.2:3b","runtime":5})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"],
            "field \"runtime\" must be a string, not number");
  EXPECT_TRUE(actuator_->applied.empty());
  // Every field every handler reads, with a wrong type: a 400 that names it.
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"/api/v1/unload", "model"},     {"/api/v1/unload", "runtime"},
      {"/api/v1/preload", "model"},    {"/api/v1/preload", "runtime"},
      {"/api/v1/preload", "endpoint"}, {"/api/v1/preload", "keep_alive"},
      {"/api/v1/profile", "name"},     {"/api/v1/optimize", "apply"},
      {"/api/v1/optimize", "kinds"},   {"/api/v1/mode", "actions"}};
  ApiHandlers h = daemon_->api_handlers();
  for (const auto& [path, field] : fields) {
    for (const char* bad : {"7", "null", "{\"a\":1}", "[1]", "1.5e300"}) {
      nlohmann::json body = {{"model", "m"}, {"name", "local_llm"}};
      body[field] = nlohmann::json::parse(bad);
      ApiReply rep = dispatch_post(h, path, body.dump());
      EXPECT_EQ(rep.status, 400) << path << " " << field << "=" << bad;
      EXPECT_NE(rep.body.value("error", "").find('"' + field + '"'), std::string::npos)
          << rep.body.dump();
    }
  }
  EXPECT_TRUE(actuator_->applied.empty());
}

// AI Mode off (the tray's toggle, POST /api/v1/mode): the policy still
// decides and records its actions, nothing is applied, and the status
// document says so; "active" turns it back on; anything else is a 400.
TEST_F(DaemonTest, AiModeOffPausesTheActionsAndTheStatusSaysSo) {
  opts_.apply = true;
  auto act = std::make_unique<RecordingActuator>();
  actuator_ = act.get();
  daemon_ = std::make_unique<Daemon>(opts_, std::make_unique<FakeSampler>(), std::move(act));
  ASSERT_TRUE(daemon_->start().ok());
  // Paused before the first sample, so even the first decision is held.
  ApiReply paused = dispatch_post(daemon_->api_handlers(), "/api/v1/mode", R"({"actions":"paused"})");
  ASSERT_EQ(paused.status, 200);
  runner_ = std::thread([this] { daemon_->run(stop_); });
  auto c = client();
  nlohmann::json actions;
  for (int i = 0; i < 100 && actions.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = c.Get("/api/v1/actions");
    if (r && r->status == 200) actions = nlohmann::json::parse(r->body)["actions"];
  }
  ASSERT_FALSE(actions.empty()) << "no action decided within 5 s";
  EXPECT_EQ(actions[0]["kind"], "unload");
  EXPECT_EQ(actions[0]["outcome"], "paused (AI Mode off)");
  EXPECT_EQ(actions[0]["applied"], false);
  EXPECT_TRUE(actuator_->applied.empty());
  auto st = c.Get("/api/v1/status");
  ASSERT_TRUE(st);
  EXPECT_EQ(nlohmann::json::parse(st->body)["actions"], "paused");
  // Through HTTP, with the token (a POST like every other act).
  httplib::Headers ok = {{"Authorization", "Bearer " + token()}};
  auto r = c.Post("/api/v1/mode", ok, R"({"actions":"active"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  st = c.Get("/api/v1/status");
  ASSERT_TRUE(st);
  EXPECT_EQ(nlohmann::json::parse(st->body)["actions"], "active");
  r = c.Post("/api/v1/mode", R"({"actions":"off"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);  // no token: refused before the handler
  r = c.Post("/api/v1/mode", ok, R"({"actions":"off"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"],
            "body needs \"actions\": \"paused\" or \"active\"");
}

// A self-signed certificate for 127.0.0.1, made by the openssl CLI.
void make_cert(const std::string& dir) {
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl (Debian package openssl) is needed: " << cmd;
}

TEST_F(DaemonTest, RemoteNeedsTlsAndATokenForEveryRequest) {
  opts_.allow_remote = true;
  {
    Daemon d(opts_, std::make_unique<FakeSampler>(), std::make_unique<RecordingActuator>());
    auto r = d.start();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("needs TLS"), std::string::npos) << r.error().message;
  }
  make_cert(dir_);
  opts_.tls_cert = dir_ + "/cert.pem";
  opts_.tls_key = dir_ + "/key.pem";
  auto act = std::make_unique<RecordingActuator>();
  actuator_ = act.get();
  daemon_ = std::make_unique<Daemon>(opts_, std::make_unique<FakeSampler>(), std::move(act));
  auto st = daemon_->start();
  ASSERT_TRUE(st.ok()) << st.error().message;
  runner_ = std::thread([this] { daemon_->run(stop_); });
  httplib::SSLClient c("127.0.0.1", daemon_->api_port());
  c.set_ca_cert_path((dir_ + "/cert.pem").c_str());
  c.enable_server_certificate_verification(true);
  auto anon = c.Get("/api/v1/status");
  ASSERT_TRUE(anon) << httplib::to_string(anon.error());
  EXPECT_EQ(anon->status, 401);
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  std::string read;
  std::ifstream(opts_.state_dir + "/api_token_read") >> read;
  ASSERT_EQ(read.size(), 64u);
  EXPECT_NE(read, token());
  httplib::Headers reader = {{"Authorization", "Bearer " + read}};
  auto m = c.Get("/metrics", reader);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  // The read-only token cannot act; the other one can.
  auto no = c.Post("/api/v1/profile", reader, R"({"name":"batch_inference"})", "application/json");
  ASSERT_TRUE(no);
  EXPECT_EQ(no->status, 403);
  httplib::Headers actor = {{"Authorization", "Bearer " + token()}};
  auto yes = c.Post("/api/v1/profile", actor, R"({"name":"batch_inference"})", "application/json");
  ASSERT_TRUE(yes);
  EXPECT_EQ(yes->status, 200) << yes->body;
  // Plain HTTP to the TLS port gets nothing readable.
  httplib::Client plain("127.0.0.1", daemon_->api_port());
  plain.set_read_timeout(2, 0);
  auto p = plain.Get("/api/v1/status", reader);
  EXPECT_TRUE(!p || p->status != 200);
}

TEST_F(DaemonTest, ANameThatOnlyStartsWith127IsNotLoopback) {
  opts_.listen = "127.0.0.1.example:0";
  Daemon d(opts_, std::make_unique<FakeSampler>(), std::make_unique<RecordingActuator>());
  auto r = d.start();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("127.0.0.1.example"), std::string::npos) << r.error().message;
  EXPECT_EQ(d.api_port(), 0);
}

TEST_F(DaemonTest, ADamagedHistoryIsMovedAsideAndTheGuardRuns) {
  ASSERT_TRUE(policy::make_private_dir(opts_.state_dir).ok());
  std::ofstream(opts_.state_dir + "/history.db") << std::string(4096, 'z');
  start();
  auto m = client().Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("ruvector_history_moved_aside_total 1\n"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("ruvector_history_available 1\n"), std::string::npos);
  size_t moved = 0;
  for (const auto& e : std::filesystem::directory_iterator(opts_.state_dir)) {
    moved += e.path().filename().string().rfind("history.db.damaged-", 0) == 0;
  }
  EXPECT_EQ(moved, 1u);
}

TEST_F(DaemonTest, AFullDiskAtStartDegradesHistoryNotThePolicy) {
  ASSERT_TRUE(policy::make_private_dir(opts_.state_dir).ok());
  ASSERT_TRUE(load_or_create_token(opts_.state_dir).ok());
  ASSERT_TRUE(load_or_create_read_token(opts_.state_dir).ok());
  opts_.apply = true;
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit tiny = old;
  tiny.rlim_cur = 0;  // no file may grow: the disk is full
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
  auto act = std::make_unique<RecordingActuator>();
  actuator_ = act.get();
  daemon_ = std::make_unique<Daemon>(opts_, std::make_unique<FakeSampler>(), std::move(act));
  auto st = daemon_->start();
  runner_ = std::thread([this] { daemon_->run(stop_); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string metrics;
  if (auto m = client().Get("/metrics")) metrics = m->body;
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  ASSERT_TRUE(st.ok()) << st.error().message;
  // The idle model was unloaded for real although nothing could be recorded.
  ASSERT_FALSE(actuator_->applied.empty());
  EXPECT_EQ(actuator_->applied[0], "ollama/llama3.2:3b");
  EXPECT_NE(metrics.find("ruvector_history_available 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ruvector_history_moved_aside_total 0\n"), std::string::npos);
  EXPECT_EQ(client().Get("/api/v1/actions")->status, 503);
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

TEST(ApiAuthTest, LoopbackIsAnAddressNotAPrefix) {
  EXPECT_TRUE(is_loopback_ip("127.0.0.1"));
  EXPECT_TRUE(is_loopback_ip("127.255.0.9"));
  EXPECT_TRUE(is_loopback_ip("::1"));
  EXPECT_TRUE(is_loopback_ip("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_ip("127.0.0.1.example"));
  EXPECT_FALSE(is_loopback_ip("1270.0.0.1"));
  EXPECT_FALSE(is_loopback_ip("0.0.0.0"));
  EXPECT_FALSE(is_loopback_ip("::"));
  EXPECT_FALSE(is_loopback_ip("localhost"));  // a name, not an address
  EXPECT_FALSE(parse_listen("127.0.0.1.example:80")->loopback());
  EXPECT_FALSE(parse_listen("127.attacker.example:80")->loopback());
  EXPECT_TRUE(parse_listen("localhost:80")->loopback());  // resolves to loopback only
  EXPECT_TRUE(parse_listen("[::1]:80")->loopback());
}

// A request that arrives on a public address may not claim a loopback Host:
// the check uses the address the connection arrived on, not the header.
TEST(ApiAuthTest, HostRulesFollowTheAddressTheConnectionArrivedOn) {
  auto any = *parse_listen("0.0.0.0:7878");
  auto pub = allowed_hosts_for(any, "192.0.2.10", 7878);
  EXPECT_FALSE(host_allowed("127.0.0.1:7878", pub));
  EXPECT_FALSE(host_allowed("localhost:7878", pub));
  EXPECT_TRUE(host_allowed("192.0.2.10:7878", pub));
  auto v6 = allowed_hosts_for(any, "2001:db8::5", 7878, {"box.lan"});
  EXPECT_TRUE(host_allowed("[2001:db8::5]:7878", v6));
  EXPECT_TRUE(host_allowed("box.lan:7878", v6));
  EXPECT_FALSE(host_allowed("[::1]:7878", v6));
  auto mapped = allowed_hosts_for(any, "::ffff:192.0.2.10", 7878);
  EXPECT_TRUE(host_allowed("192.0.2.10:7878", mapped));
  auto lo = allowed_hosts_for(any, "127.0.0.1", 7878);
  EXPECT_TRUE(host_allowed("localhost:7878", lo));
  EXPECT_FALSE(host_allowed("192.0.2.10:7878", lo));
  EXPECT_TRUE(origin_allowed("https://192.0.2.10:7878", pub, "https"));
  EXPECT_FALSE(origin_allowed("http://192.0.2.10:7878", pub, "https"));
}

}  // namespace
}  // namespace memopt::daemon

namespace memopt::daemon {
namespace {

// The machine of FakeSampler with a GPU in the snapshot, as the assembler
// fills it: 24 GiB, 20 GiB free.
class PlanSampler : public FakeSampler {
 public:
  Sample sample(double now, const policy::DaemonKnowledge& k) override {
    Sample s = FakeSampler::sample(now, k);
    gpu::GpuDevice g;
    g.index = 0;
    g.name = "Test GPU";
    g.memory_total_bytes = 24 * kGiB;
    g.memory_used_bytes = 4 * kGiB;
    g.memory_free_bytes = 20 * kGiB;
    s.snapshot.gpus = {g};
    s.snapshot.host.meminfo.available_bytes = 40 * kGiB;
    return s;
  }
};

class DaemonPlanTest : public DaemonTest {
 protected:
  void start_planning() {
    auto st = testing::tiny_model(testing::tiny_llama_gqa()).write_file(dir_ + "/tiny.gguf");
    ASSERT_TRUE(st.ok()) << st.error().message;
    daemon_ = std::make_unique<Daemon>(opts_, std::make_unique<PlanSampler>(),
                                       std::make_unique<RecordingActuator>());
    auto started = daemon_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    runner_ = std::thread([this] { daemon_->run(stop_); });
    for (int i = 0; i < 100; ++i) {
      auto r = client().Get("/api/v1/status");
      if (r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the daemon took no sample within 5 s";
  }
  nlohmann::json get_plan(const std::string& query, int want_status) {
    auto r = client().Get("/api/v1/plan?" + query);
    EXPECT_TRUE(r) << query;
    if (!r) return {};
    EXPECT_EQ(r->status, want_status) << query << ": " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    return nlohmann::json::parse(r->body, nullptr, false);
  }
};

TEST_F(DaemonPlanTest, PlansAgainstTheSnapshotAsAiPlanDoes) {
  start_planning();
  const std::string model = dir_ + "/tiny.gguf";
  auto doc = get_plan("model=" + model +
                          "&ctx=256&kv_type=q8_0&parallel=2&flash_attn=on",
                      200);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["schema"], "ruvector-memopt.ai-plan/1");
  EXPECT_EQ(doc["settings"]["ctx_per_seq"], 256);
  EXPECT_EQ(doc["settings"]["parallel"], 2);
  EXPECT_EQ(doc["settings"]["type_k"], "q8_0");
  // The snapshot's GPU, its free memory, and the profile's reserve
  // (local_llm: AI work may fill 90%, so 10% of the total is kept).
  // devices[0] is the host, then the GPUs.
  ASSERT_EQ(doc.at("devices").size(), 2u);
  const nlohmann::json gpu = doc.at("devices").at(1);
  EXPECT_EQ(gpu.at("kind"), "gpu");
  EXPECT_EQ(gpu.at("name"), "Test GPU");
  EXPECT_EQ(gpu.at("free_bytes"), 20 * kGiB);
  EXPECT_EQ(gpu.at("limit_bytes"), 20 * kGiB - 2576980378);  // 10% of 24 GiB, rounded up
  EXPECT_EQ(doc.at("devices").at(0).at("limit_bytes"), 40 * kGiB);  // the snapshot's MemAvailable
  EXPECT_EQ(doc.at("fits"), true);
  // The document is the one the shared planner makes for that machine
  // (plan/model_plan.h, which `ai plan --json` prints).
  plan::PlanOptions o;
  o.model = model;
  o.ctx = "256";
  o.kv_type = "q8_0";
  o.parallel = 2;
  plan::Machine m;
  const Sample fixed = PlanSampler().sample(0, policy::DaemonKnowledge{});
  m.gpus = fixed.snapshot.gpus;
  m.host = fixed.snapshot.host;
  auto mp = plan::make_plan(o, m, 10.0);
  ASSERT_TRUE(mp.ok()) << mp.error().message;
  EXPECT_EQ(doc, plan::plan_json(*mp));
  // A context the KV cache follows: twice the tokens, twice the KV bytes.
  auto doc2 = get_plan("model=" + model +
                           "&ctx=512&kv_type=q8_0&parallel=2",
                       200);
  const uint64_t kv = gpu.at("kv_bytes").get<uint64_t>();
  EXPECT_GT(kv, 0u);
  EXPECT_EQ(doc2.at("devices").at(1).at("kv_bytes").get<uint64_t>(), 2 * kv);
}

TEST_F(DaemonPlanTest, BadInputIsA4xxNamingTheProblem) {
  start_planning();
  const std::string model = dir_ + "/tiny.gguf";
  auto has = [](const nlohmann::json& j, const std::string& words) {
    return j.is_object() && j.contains("error") &&
           j["error"].get<std::string>().find(words) != std::string::npos;
  };
  auto e = get_plan("", 400);
  EXPECT_TRUE(has(e, "model is missing")) << e.dump();
  e = get_plan("model=" + dir_ + "/nothing-here.gguf", 422);
  EXPECT_TRUE(has(e, "no GGUF file at")) << e.dump();
  std::ofstream(dir_ + "/not.gguf") << "this is not a GGUF file, only text";
  e = get_plan("model=" + dir_ + "/not.gguf", 422);
  EXPECT_TRUE(has(e, dir_ + "/not.gguf")) << e.dump();
  e = get_plan("model=models/x.gguf", 400);
  EXPECT_TRUE(has(e, "relative path")) << e.dump();
  e = get_plan("model=" + model + "&ctx=99999999999999999999", 400);
  EXPECT_TRUE(has(e, "ctx")) << e.dump();
  e = get_plan("model=" + model + "&ctx=1000000000", 422);  // beyond the trained 512
  EXPECT_TRUE(has(e, "beyond the trained context")) << e.dump();
  e = get_plan("model=" + model + "&parallel=100000", 400);
  EXPECT_TRUE(has(e, "parallel")) << e.dump();
  e = get_plan("model=" + model + "&kv_type=f99", 400);
  EXPECT_TRUE(has(e, "--kv-type: 'f99'")) << e.dump();
  e = get_plan("model=" + model + "&flash_attn=yes", 400);
  EXPECT_TRUE(has(e, "--flash-attn: 'yes' is not on or off")) << e.dump();
  e = get_plan("model=" + model + "&ollama_models=/etc", 400);
  EXPECT_TRUE(has(e, "unknown parameter 'ollama_models'")) << e.dump();
  e = get_plan("model=" + std::string(5000, 'a'), 400);
  EXPECT_TRUE(has(e, "at most 4096")) << e.dump();
  e = get_plan("model=%1B%5B2J", 400);
  EXPECT_TRUE(has(e, "control character")) << e.dump();
  // A request past the header limit is cut by the front door, not planned.
  auto big = client().Get("/api/v1/plan?model=" + std::string(20000, 'a'));
  EXPECT_TRUE(!big || big->status == 431 || big->status >= 400);
  // Still serving.
  EXPECT_EQ(get_plan("model=" + model, 200)["schema"], "ruvector-memopt.ai-plan/1");
}

TEST_F(DaemonPlanTest, RemoteNeedsAReadTokenForThePlan) {
  opts_.allow_remote = true;
  make_cert(dir_);
  opts_.tls_cert = dir_ + "/cert.pem";
  opts_.tls_key = dir_ + "/key.pem";
  auto st = testing::tiny_model(testing::tiny_llama_gqa()).write_file(dir_ + "/tiny.gguf");
  ASSERT_TRUE(st.ok());
  daemon_ = std::make_unique<Daemon>(opts_, std::make_unique<PlanSampler>(),
                                     std::make_unique<RecordingActuator>());
  ASSERT_TRUE(daemon_->start().ok());
  runner_ = std::thread([this] { daemon_->run(stop_); });
  httplib::SSLClient c("127.0.0.1", daemon_->api_port());
  c.set_ca_cert_path((dir_ + "/cert.pem").c_str());
  c.enable_server_certificate_verification(true);
  const std::string path = "/api/v1/plan?model=" + dir_ + "/tiny.gguf";
  auto anon = c.Get(path);
  ASSERT_TRUE(anon) << httplib::to_string(anon.error());
  EXPECT_EQ(anon->status, 401);
  EXPECT_EQ(anon->body.find("tiny"), std::string::npos);  // nothing about the file
  std::string read;
  std::ifstream(opts_.state_dir + "/api_token_read") >> read;
  httplib::Headers reader = {{"Authorization", "Bearer " + read}};
  for (int i = 0; i < 100; ++i) {
    auto r = c.Get(path, reader);
    ASSERT_TRUE(r);
    if (r->status == 200) {
      EXPECT_EQ(nlohmann::json::parse(r->body)["schema"], "ruvector-memopt.ai-plan/1");
      return;
    }
    EXPECT_EQ(r->status, 503) << r->body;  // no sample yet
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "no plan within 5 s";
}

}  // namespace
}  // namespace memopt::daemon
