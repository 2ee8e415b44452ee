// The gateway's preload predictor end to end, on stand-in backends
// (tests/serve/fake_backend.cc) and a RAM budget: a likely model is started
// before anyone asks when memory is free, and never at the cost of a busy or
// recently used model. The real llama.cpp tests are tests/node/gateway*.mjs.
#include "serve/gateway.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "policy/profile.h"
#include "serve/backend.h"
#include "serve/gateway_test_support.h"
#include "support/gguf_models.h"
#include "support/temp_dir.h"

namespace memopt::serve {
namespace {

using nlohmann::json;
using test_support::has_line;
using test_support::model_state;
using test_support::wait_for;
using namespace std::chrono_literals;

constexpr int64_t kWeekMs = 7 * 86400 * 1000LL;

class GatewayPreload : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::tiny_model(testing::tiny_llama_gqa()).write_file(dir_.file("m.gguf")));
    std::filesystem::create_directories(dir_.file("sys"));
  }

  ModelConfig model(const std::string &name) {
    ModelConfig m;
    m.name = name;
    m.command = {
        MEMOPT_SERVE_FAKE_BACKEND, "-m", dir_.file("m.gguf"), "--port", "${PORT}", "-c", "256"};
    m.load_timeout_seconds = 20;
    return m;
  }

  // A log that says "tiny-b" is what gets asked for at this hour of the
  // week: ten requests at this very time in each of the last four weeks, and
  // ten an hour later (so a test running across the hour sees the same).
  void seed_log() {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    std::deque<RequestRecord> recs;
    for (int week = 4; week >= 1; --week) {
      for (int i = 0; i < 10; ++i) recs.push_back({now_ms - week * kWeekMs, "tiny-b", ""});
      for (int i = 0; i < 10; ++i) {
        recs.push_back({now_ms - week * kWeekMs + 3600 * 1000, "tiny-b", ""});
      }
    }
    std::ofstream(dir_.file("serve-requests.log")) << encode_request_log(recs);
  }

  std::unique_ptr<Gateway> make(uint64_t budget, int64_t evict_idle_seconds) {
    GatewayOptions o;
    o.config.listen = "127.0.0.1:0";
    o.config.memory_budget_bytes = budget;
    o.config.preload = true;
    o.config.preload_idle_seconds = 0;
    o.config.preload_min_probability = 0.3;
    o.config.preload_evict_idle_seconds = evict_idle_seconds;
    o.config.models = {model("tiny-a"), model("tiny-b")};
    return test_support::create_ram_gateway(std::move(o), dir_.path());
  }

  static int chat(int port, const std::string &model, const std::string &text = "hi") {
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(30s);
    const json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", text}}}}};
    auto r = cli.Post("/v1/chat/completions", body.dump(), "application/json");
    return r ? r->status : -1;
  }

  uint64_t planned_bytes() {
    auto gw = make(1ull << 40, 0);
    if (!gw) return 0;
    return model_state(*gw, "tiny-a")["planned_bytes"][0].get<uint64_t>();
  }

  testing::TempDir dir_;
};

TEST_F(GatewayPreload, StartsTheLikelyModelWhenMemoryIsFreeAndKeepsTheLog) {
  seed_log();
  auto gw = make(1ull << 40, 120);
  ASSERT_TRUE(gw);
  EXPECT_EQ(gw->state_json()["preload"]["log_records"], 80);
  EXPECT_EQ(gw->state_json()["preload"]["next"][0]["model"], "tiny-b");
  ASSERT_TRUE(gw->start());
  // Nobody asked for anything: tiny-b comes up on its own, tiny-a does not.
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-b")["state"] == "ready"; }, 15s))
      << gw->state_json().dump(1);
  EXPECT_EQ(model_state(*gw, "tiny-a")["state"], "stopped");
  bool preload_event = false;
  const json st = gw->state_json();
  for (const auto &e : st["events"]) {
    if (e["event"] == "loading" && e["model"] == "tiny-b" && e.value("preload", false)) {
      preload_event = true;
      EXPECT_GT(e["probability"].get<double>(), 0.9);
    }
  }
  EXPECT_TRUE(preload_event) << gw->state_json()["events"].dump(1);
  EXPECT_TRUE(has_line(gw->metrics_text(), "ruvector_serve_preloads_total{model=\"tiny-b\"} 1"));
  EXPECT_TRUE(has_line(gw->metrics_text(), "ruvector_serve_preloads_total{model=\"tiny-a\"} 0"));
  // Its first request finds it up: a hit.
  EXPECT_EQ(chat(gw->port(), "tiny-b"), 200);
  EXPECT_EQ(model_state(*gw, "tiny-b")["preload_hits"], 1);
  EXPECT_EQ(model_state(*gw, "tiny-b")["loads"], 1);
  EXPECT_TRUE(
      has_line(gw->metrics_text(), "ruvector_serve_preload_hits_total{model=\"tiny-b\"} 1"));
  gw->stop();
  // The log survives the restart: the seeded 80 and the new request.
  auto stored = file_request_log_store(dir_.file("serve-requests.log"))->load();
  ASSERT_TRUE(stored) << stored.error().message;
  auto recs = decode_request_log(*stored, "log");
  ASSERT_TRUE(recs) << recs.error().message;
  ASSERT_EQ(recs->size(), 81u);
  EXPECT_EQ(recs->back().model, "tiny-b");
  auto again = make(1ull << 40, 120);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state_json()["preload"]["log_records"], 81);
}

TEST_F(GatewayPreload, NeverEvictsARecentOrBusyModelForIt) {
  const uint64_t need = planned_bytes();
  ASSERT_GT(need, 0u);
  seed_log();
  const uint64_t one = need + need / 2;  // holds one of the two
  {
    // tiny-a was just used: a preload of tiny-b would have to evict it.
    // (tiny-b may have been preloaded at the start, while memory was free,
    // and evicted by tiny-a's request.)
    auto gw = make(one, 3600);
    ASSERT_TRUE(gw && gw->start());
    ASSERT_EQ(chat(gw->port(), "tiny-a"), 200);
    const json before = model_state(*gw, "tiny-b")["preloads"];
    std::this_thread::sleep_for(2500ms);  // a dozen monitor rounds with preload_idle_seconds = 0
    EXPECT_EQ(model_state(*gw, "tiny-a")["state"], "ready");
    EXPECT_EQ(model_state(*gw, "tiny-b")["state"], "stopped");
    EXPECT_EQ(model_state(*gw, "tiny-b")["preloads"], before);
    EXPECT_EQ(model_state(*gw, "tiny-a")["evictions"], 0);
    EXPECT_EQ(model_state(*gw, "tiny-b")["preload_misses"], before);
  }
  // Idle for a second is enough here, but not while tiny-a is busy. (A new
  // log: a second request for tiny-a within minutes of the first would
  // rightly make tiny-a the likelier next model for a while.)
  seed_log();
  auto gw = make(one, 1);
  ASSERT_TRUE(gw && gw->start());
  std::thread slow([&] { EXPECT_EQ(chat(gw->port(), "tiny-a", "slow"), 200); });
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-a")["state"] == "busy"; }, 10s));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(model_state(*gw, "tiny-a")["state"], "busy");
  EXPECT_EQ(model_state(*gw, "tiny-b")["state"], "stopped");
  slow.join();
  const uint64_t before = model_state(*gw, "tiny-b")["preloads"].get<uint64_t>();
  // Once tiny-a has been idle past preload_evict_idle_seconds, tiny-b (far
  // likelier) takes its place.
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-b")["state"] == "ready"; }, 15s))
      << gw->state_json().dump(1);
  EXPECT_EQ(model_state(*gw, "tiny-a")["state"], "stopped");
  bool evicted_for_preload = false;
  const json st = gw->state_json();
  for (const auto &e : st["events"]) {
    if (e["event"] == "evicted" && e["model"] == "tiny-a") {
      evicted_for_preload = e["reason"] == "preload of \"tiny-b\"";
    }
  }
  EXPECT_TRUE(evicted_for_preload) << gw->state_json()["events"].dump(1);
  EXPECT_EQ(model_state(*gw, "tiny-b")["preloads"], before + 1);
}

TEST_F(GatewayPreload, ADamagedLogIsReportedAndThePredictorStartsEmpty) {
  std::ofstream(dir_.file("serve-requests.log")) << "# ruvector-memopt serve request log 1\n"
                                                 << "1767571200000 tiny-b\nnot a record\n";
  auto gw = make(1ull << 40, 120);
  ASSERT_TRUE(gw);
  const json p = gw->state_json()["preload"];
  EXPECT_EQ(p["log_records"], 0);
  EXPECT_TRUE(p["next"].empty());
  ASSERT_TRUE(p["log_error"].is_string());
  EXPECT_NE(p["log_error"].get<std::string>().find("serve-requests.log:3:"), std::string::npos)
      << p.dump();
  ASSERT_TRUE(gw->start());
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(model_state(*gw, "tiny-b")["state"], "stopped");  // nothing learned, nothing preloaded
}

// `daemon --serve`: the gateway reads the GPUs through the collector it is
// given (the daemon sampler's), for its budget and to confirm an evicted
// backend's memory came back, and opens no reader of its own: its own roots
// here have no GPU, the shared collector reads an RX 7900 XTX (fixture).
TEST_F(GatewayPreload, ReadsTheGpusThroughTheCollectorItIsGiven) {
  const std::string amd = std::string(MEMOPT_FIXTURES_DIR) + "/gpu/amd";
  auto shared = std::make_shared<gpu::GpuCollector>(
      gpu::GpuRoots{amd + "/proc", amd + "/sys", dir_.file("no-nvml.so")});
  GatewayOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.memory_budget_bytes = 1ull << 40;
  o.config.models = {model("tiny-a"), model("tiny-b")};
  o.gpus = shared;
  auto gw = test_support::create_ram_gateway(std::move(o), dir_.path());
  ASSERT_TRUE(gw);
  const json st = gw->state_json();
  ASSERT_EQ(st["devices"].size(), 1u) << st["devices"].dump();
  EXPECT_EQ(st["devices"][0]["device"], "GPU 0");
  EXPECT_EQ(shared->samples(), 1u);
  // One model on the GPU budget, then the other in its place: the eviction
  // confirms the release through the same collector.
  const uint64_t need = model_state(*gw, "tiny-a")["planned_bytes"][0].get<uint64_t>();
  ASSERT_GT(need, 0u);
  gw.reset();
  GatewayOptions o2;
  o2.config.listen = "127.0.0.1:0";
  o2.config.memory_budget_bytes = need + need / 2;
  o2.config.models = {model("tiny-a"), model("tiny-b")};
  o2.gpus = shared;
  gw = test_support::create_ram_gateway(std::move(o2), dir_.path());
  ASSERT_TRUE(gw && gw->start());
  EXPECT_EQ(shared->samples(), 2u);
  ASSERT_EQ(chat(gw->port(), "tiny-a"), 200);
  ASSERT_EQ(chat(gw->port(), "tiny-b"), 200);
  EXPECT_EQ(model_state(*gw, "tiny-a")["evictions"], 1);
  EXPECT_GE(shared->samples(), 4u);  // the held bytes, then at least one "gone" read
  gw->stop();
}

// profile_settings = true: the command is planned and started with the
// active profile's llama.cpp settings (issue 14: dynamic_batching,
// continuous_batching and numa_aware act); a flag the command gives wins; a
// model without it runs as written.
TEST_F(GatewayPreload, StartsACommandWithTheActiveProfilesSettings) {
  ASSERT_TRUE(policy::set_active_profile(dir_.path(), "batch_inference"));
  GatewayOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.memory_budget_bytes = 1ull << 40;
  ModelConfig a = model("tiny-a");
  a.profile_settings = true;
  ModelConfig b = model("tiny-b");
  b.profile_settings = true;
  b.command.insert(b.command.end(), {"-np", "2", "--no-cont-batching"});
  ModelConfig c = model("tiny-c");
  c.command.insert(c.command.end(), {"--api-key", "s3cret", "--hf-token=hf_abc"});
  o.config.models = {a, b, c};
  o.config_path = dir_.file("config.toml");  // none there: the built-in profiles
  auto gw = test_support::create_ram_gateway(std::move(o), dir_.path());
  ASSERT_TRUE(gw && gw->start());
  auto with = [](std::vector<std::string> v, std::initializer_list<const char *> more) {
    v.insert(v.end(), more.begin(), more.end());
    return v;
  };
  // batch_inference: 32 slots, continuous batching; no GPU here, so
  // llama.cpp spreads itself over the NUMA nodes.
  const json sa = model_state(*gw, "tiny-a");
  EXPECT_EQ(sa["profile_settings"], "batch_inference");
  EXPECT_EQ(sa["command"].get<std::vector<std::string>>(),
            with(a.command, {"--numa", "distribute", "--cont-batching", "--parallel", "32"}));
  EXPECT_EQ(sa["plan"].get<std::string>().rfind("ctx 8 x 32,", 0), 0u) << sa["plan"];
  const json sb = model_state(*gw, "tiny-b");
  EXPECT_EQ(sb["command"].get<std::vector<std::string>>(),
            with(b.command, {"--numa", "distribute"}));
  EXPECT_EQ(sb["plan"].get<std::string>().rfind("ctx 128 x 2,", 0), 0u) << sb["plan"];
  const json sc = model_state(*gw, "tiny-c");
  EXPECT_TRUE(sc["profile_settings"].is_null());
  // As written, but a secret's value is not shown.
  auto shown = c.command;
  shown[shown.size() - 2] = "<redacted>";
  shown.back() = "--hf-token=<redacted>";
  EXPECT_EQ(sc["command"].get<std::vector<std::string>>(), shown);
  EXPECT_EQ(sc.dump().find("s3cret"), std::string::npos);
  EXPECT_EQ(sc.dump().find("hf_abc"), std::string::npos);
  EXPECT_EQ(sc["plan"].get<std::string>().rfind("ctx 256 x 1,", 0), 0u) << sc["plan"];
  // What runs is what the state says: the backend's own command line.
  ASSERT_EQ(chat(gw->port(), "tiny-a"), 200);
  const int pid = model_state(*gw, "tiny-a")["pid"].get<int>();
  std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline");
  std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(cmdline.find(std::string("--cont-batching\0--parallel\0" "32\0", 30)),
            std::string::npos)
      << cmdline;
  gw->stop();
}

// A backend started with llama-server's --api-key answers only requests
// that carry its key: the gateway sends it (from the command line), so a
// client of the gateway needs only the gateway's own access. A key no
// header can carry stops the gateway at its start, naming the model.
TEST_F(GatewayPreload, SendsABackendItsOwnApiKey) {
  GatewayOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.memory_budget_bytes = 1ull << 40;
  ModelConfig a = model("tiny-a");
  a.command.insert(a.command.end(), {"--api-key", "other-key", "--api-key", "k3y-0f-b4ckend,second"});
  ModelConfig b = model("tiny-b");  // no key: none sent, none needed
  o.config.models = {a, b};
  auto gw = test_support::create_ram_gateway(std::move(o), dir_.path());
  ASSERT_TRUE(gw && gw->start());
  EXPECT_EQ(chat(gw->port(), "tiny-a"), 200);
  EXPECT_EQ(chat(gw->port(), "tiny-b"), 200);
  // The stand-in refuses a wrong key the way llama-server does.
  const int port = model_state(*gw, "tiny-a")["port"].get<int>();
  httplib::Client direct("127.0.0.1", port);
  const std::string body = R"({"messages":[{"role":"user","content":"hi"}]})";
  auto r = direct.Post("/v1/chat/completions", body, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = direct.Post("/v1/chat/completions", {{"Authorization", "Bearer second"}}, body,
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  gw->stop();

  GatewayOptions bad;
  bad.config.listen = "127.0.0.1:0";
  bad.config.memory_budget_bytes = 1ull << 40;
  ModelConfig c = model("tiny-c");
  c.command.insert(c.command.end(), {"--api-key", "two words"});
  bad.config.models = {c};
  bad.log_dir = dir_.file("logs");
  bad.state_dir = dir_.path();
  bad.sys_root = dir_.file("sys");
  bad.nvml_library = dir_.file("no-nvml.so");
  auto made = Gateway::create(std::move(bad));
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("model \"tiny-c\": its --api-key (or the LLAMA_API_KEY"),
            std::string::npos)
      << made.error().message;
}

// A backend inherits the gateway's environment: started under a
// LLAMA_API_KEY (the way to keep a key off the process list), llama-server
// asks for it, and the gateway sends it.
TEST_F(GatewayPreload, SendsABackendTheApiKeyItInherits) {
  struct Env {
    Env() { ::setenv("LLAMA_API_KEY", "inherited-k3y,alt", 1); }
    ~Env() { ::unsetenv("LLAMA_API_KEY"); }
  } env;
  GatewayOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.memory_budget_bytes = 1ull << 40;
  o.config.models = {model("tiny-a")};
  auto gw = test_support::create_ram_gateway(std::move(o), dir_.path());
  ASSERT_TRUE(gw && gw->start());
  EXPECT_EQ(chat(gw->port(), "tiny-a"), 200);
  const int port = model_state(*gw, "tiny-a")["port"].get<int>();
  httplib::Client direct("127.0.0.1", port);
  auto r = direct.Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})",
                       "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);  // the stand-in did ask for the key
  gw->stop();
}

// A backend started with --api-key-file (the way to keep a key off the
// process list and out of the environment): the gateway reads the file at
// each load, as the backend does, and sends its first key a header can
// carry; a key rotated in the file between loads is the one sent. A file
// it cannot use (gone, a symbolic link, only keys with spaces) fails the
// load, naming the model and the file.
TEST_F(GatewayPreload, SendsABackendTheKeyInItsKeyFile) {
  const std::string keys = dir_.file("keys.txt");
  std::ofstream(keys) << "\nwith space\nk3y-fr0m-file\nsecond\n";
  GatewayOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.memory_budget_bytes = 1ull << 40;
  ModelConfig a = model("tiny-a");
  a.command.insert(a.command.end(), {"--api-key-file", keys});
  a.ttl_seconds = 1;  // unloaded when idle, so the next request loads it again
  ModelConfig gone = model("tiny-b");
  gone.command.insert(gone.command.end(), {"--api-key-file=" + dir_.file("no-such-keys")});
  ModelConfig link = model("tiny-c");
  std::filesystem::create_symlink(keys, dir_.file("keys-link"));
  link.command.insert(link.command.end(), {"--api-key-file", dir_.file("keys-link")});
  o.config.models = {a, gone, link};
  auto gw = test_support::create_ram_gateway(std::move(o), dir_.path());
  ASSERT_TRUE(gw && gw->start());
  // The stand-in refuses every request without one of the file's keys
  // (SendsABackendItsOwnApiKey shows it): a 200 is the gateway sending one.
  ASSERT_EQ(chat(gw->port(), "tiny-a"), 200);
  // Rotated while the model is loaded; once it has been unloaded for
  // idling, the next load reads the file again and sends the new key (the
  // backend now knows no other).
  std::ofstream(keys) << "r0tated-k3y\n";
  for (int i = 0; i < 150 && model_state(*gw, "tiny-a")["state"] == "ready"; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(model_state(*gw, "tiny-a")["state"], "ready");
  ASSERT_EQ(chat(gw->port(), "tiny-a"), 200);
  EXPECT_EQ(model_state(*gw, "tiny-a")["loads"], 2);
  httplib::Client cli("127.0.0.1", gw->port());
  cli.set_read_timeout(30s);
  for (const std::string name : {"tiny-b", "tiny-c"}) {
    const json req = {{"model", name}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    auto r = cli.Post("/v1/chat/completions", req.dump(), "application/json");
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->status, 502) << name;
    const std::string err = model_state(*gw, name)["last_error"].get<std::string>();
    EXPECT_EQ(err.rfind("model \"" + name + "\": --api-key-file ", 0), 0u) << err;
    EXPECT_NE(err.find("the gateway cannot send the backend its key"), std::string::npos) << err;
    EXPECT_NE(r->body.find("--api-key-file"), std::string::npos) << r->body;
  }
  EXPECT_NE(model_state(*gw, "tiny-b")["last_error"].get<std::string>().find("No such file"),
            std::string::npos);
  EXPECT_NE(model_state(*gw, "tiny-c")["last_error"].get<std::string>().find("symbolic link"),
            std::string::npos);
  EXPECT_EQ(model_state(*gw, "tiny-b")["loads"], 0);  // never started
  gw->stop();
}

// A server already running that asks for a key (vLLM, SGLang or
// llama-server with --api-key): the model entry's api_key is sent to it; a
// model without one gets the server's 401 as it came.
TEST_F(GatewayPreload, SendsAnEndpointModelItsApiKey) {
  auto port = free_loopback_port();
  ASSERT_TRUE(port) << port.error().message;
  auto server = BackendProcess::start({MEMOPT_SERVE_FAKE_BACKEND, "--port", std::to_string(*port),
                                       "--api-key", "sk-backend-0123"},
                                      dir_.file("external.log"));
  ASSERT_TRUE(server) << server.error().message;
  ASSERT_TRUE(wait_for(
      [&] {
        httplib::Client probe("127.0.0.1", *port);
        auto r = probe.Get("/health");
        return r && r->status == 200;
      },
      10s));
  GatewayOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.memory_budget_bytes = 1ull << 40;
  ModelConfig with_key;
  with_key.name = "keyed";
  with_key.runtime = "llamacpp";
  with_key.endpoint = "http://127.0.0.1:" + std::to_string(*port);
  with_key.model = "m";
  with_key.api_key = "sk-backend-0123";
  ModelConfig without = with_key;
  without.name = "unkeyed";
  without.api_key.clear();
  o.config.models = {with_key, without};
  auto gw = test_support::create_ram_gateway(std::move(o), dir_.path());
  ASSERT_TRUE(gw && gw->start());
  EXPECT_EQ(chat(gw->port(), "keyed"), 200);
  EXPECT_EQ(chat(gw->port(), "unkeyed"), 401);
  EXPECT_EQ(model_state(*gw, "keyed").dump().find("sk-backend"), std::string::npos);
  gw->stop();
  server->stop(2s);
}

}  // namespace
}  // namespace memopt::serve
