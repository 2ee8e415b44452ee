// The image-generation handoff end to end: a stand-in ComfyUI / A1111 (the
// replay server, serving the documented /queue and /sdapi/v1/progress
// payloads) whose queue the test fills and empties, stand-in llama-server
// backends (tests/serve/fake_backend.cc) and a stand-in vLLM endpoint.
// Asserted: a queued render unloads an idle model (sleeps a vLLM one), lets
// a busy one finish, leaves a pinned one; a new request is held ("queue") or
// refused with 503 + Retry-After ("reject"); once the queue stays empty, the
// models come back and the held request is served; a vanished image server
// or a profile that says "off" changes nothing.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "policy/profile.h"
#include "serve/gateway.h"
#include "serve/gateway_test_support.h"
#include "support/gguf_models.h"
#include "support/replay_server.h"
#include "support/temp_dir.h"

namespace memopt::serve {
namespace {

using memopt::testing::fixture;
using memopt::testing::ReplayServer;
using nlohmann::json;
using test_support::has_line;
using test_support::model_state;
using test_support::wait_for;
using namespace std::chrono_literals;

class GatewayHandoff : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::tiny_model(testing::tiny_llama_gqa()).write_file(dir_.file("m.gguf")));
    std::filesystem::create_directories(dir_.file("sys"));
    ASSERT_TRUE(policy::set_active_profile(dir_.path(), "image_generation"));
    comfy_.on_fixture("GET /queue", "comfyui-queue-empty.json");
  }

  ModelConfig model(const std::string &name, bool pinned = false) {
    ModelConfig m;
    m.name = name;
    m.command = {
        MEMOPT_SERVE_FAKE_BACKEND, "-m", dir_.file("m.gguf"), "--port", "${PORT}", "-c", "256"};
    m.load_timeout_seconds = 20;
    m.pinned = pinned;
    return m;
  }

  std::unique_ptr<Gateway> make(std::vector<ModelConfig> models,
                                std::vector<RenderEndpoint> servers = {}) {
    GatewayOptions o;
    o.config.listen = "127.0.0.1:0";
    o.config.memory_budget_bytes = 1ull << 40;
    o.config.queue_timeout_seconds = 30;
    o.config.max_queue = max_queue_;
    o.config.models = std::move(models);
    o.config.image_generation.endpoints =
        servers.empty() ? std::vector<RenderEndpoint>{{"comfyui", comfy_.url()}} : servers;
    o.config.image_generation.poll_seconds = 0.1;
    o.config.image_generation.resume_after_seconds = 0.5;
    o.config_path = dir_.file("config.toml");
    return test_support::create_ram_gateway(std::move(o), dir_.path());
  }

  struct Answer {
    int status = -1;
    std::string retry_after, body;
  };
  static Answer chat(int port, const std::string &model, const std::string &text = "hi") {
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(40s);
    const json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", text}}}}};
    auto r = cli.Post("/v1/chat/completions", body.dump(), "application/json");
    if (!r) return {};
    return {r->status, r->get_header_value("Retry-After"), r->body};
  }

  static int count_events(const Gateway &gw, const std::string &what, const std::string &model) {
    int n = 0;
    const json st = gw.state_json();  // kept: a loop over a temporary's member would dangle
    for (const auto &e : st["events"]) {
      if (e["event"] == what && (model.empty() || e.value("model", "") == model)) n++;
    }
    return n;
  }

  void render(bool busy) {
    comfy_.on_fixture("GET /queue", busy ? "comfyui-queue-busy.json" : "comfyui-queue-empty.json");
  }

  testing::TempDir dir_;
  ReplayServer comfy_;
  int64_t max_queue_ = 64;
};

TEST_F(GatewayHandoff, ARenderUnloadsIdleModelsHoldsRequestsAndBringsThemBack) {
  auto gw = make({model("tiny-a"), model("tiny-pinned", true)});
  ASSERT_TRUE(gw);
  EXPECT_EQ(gw->state_json()["handoff"]["servers"][0]["error"], "not read yet");
  ASSERT_TRUE(gw->start());
  ASSERT_EQ(chat(gw->port(), "tiny-a").status, 200);
  ASSERT_EQ(chat(gw->port(), "tiny-pinned").status, 200);
  json h = gw->state_json()["handoff"];
  EXPECT_EQ(h["enabled"], true);
  EXPECT_EQ(h["profile"], "image_generation");
  EXPECT_EQ(h["mode"], "queue");
  EXPECT_EQ(h["phase"], "idle");

  render(true);
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-a")["state"] == "stopped"; }, 10s))
      << gw->state_json().dump(1);
  h = gw->state_json()["handoff"];
  EXPECT_EQ(h["phase"], "rendering");
  EXPECT_EQ(h["handoffs"], 1);
  ASSERT_EQ(h["servers"].size(), 1u);
  EXPECT_EQ(h["servers"][0]["running"], 1);
  EXPECT_EQ(h["servers"][0]["pending"], 2);
  EXPECT_EQ(h["yielded"], json::parse(R"([{"model":"tiny-a","how":"unloaded"}])"));
  EXPECT_EQ(model_state(*gw, "tiny-pinned")["state"], "ready");  // pinned: stays
  EXPECT_EQ(model_state(*gw, "tiny-a")["evictions"], 1);
  EXPECT_EQ(count_events(*gw, "render_started", ""), 1);
  EXPECT_TRUE(has_line(gw->metrics_text(), "ruvector_serve_render_holding 1"));

  // A request now waits in the queue; the model is not started for it.
  std::atomic<int> status{0};
  std::thread held([&] { status = chat(gw->port(), "tiny-a").status; });
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-a")["queued"] == 1; }, 5s));
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(status.load(), 0);
  EXPECT_EQ(model_state(*gw, "tiny-a")["state"], "stopped");
  EXPECT_EQ(gw->state_json()["handoff"]["requests_held"], 1);

  // The queue empties: after resume_after_seconds the model is back and the
  // held request is served.
  const auto emptied = std::chrono::steady_clock::now();
  render(false);
  held.join();
  EXPECT_EQ(status.load(), 200);
  EXPECT_GE(std::chrono::steady_clock::now() - emptied, 450ms);  // the debounce held it
  EXPECT_EQ(model_state(*gw, "tiny-a")["state"], "ready");
  EXPECT_EQ(model_state(*gw, "tiny-a")["loads"], 2);
  h = gw->state_json()["handoff"];
  EXPECT_EQ(h["phase"], "idle");
  EXPECT_TRUE(h["yielded"].empty());
  EXPECT_GT(h["held_seconds_total"].get<double>(), 0.5);
  EXPECT_EQ(count_events(*gw, "render_ended", ""), 1);
  EXPECT_EQ(model_state(*gw, "tiny-pinned")["loads"], 1);
  const std::string metrics = gw->metrics_text();
  EXPECT_TRUE(has_line(metrics, "ruvector_serve_render_handoffs_total 1")) << metrics;
  EXPECT_TRUE(has_line(metrics, "ruvector_serve_render_holding 0"));
  EXPECT_TRUE(has_line(metrics, "ruvector_serve_render_requests_total{outcome=\"held\"} 1"));
  EXPECT_TRUE(has_line(metrics, "ruvector_serve_render_jobs{runtime=\"comfyui\",endpoint=\"" +
                                    comfy_.url() + "\"} 0"));
}

TEST_F(GatewayHandoff, ABusyModelFinishesItsRequestFirst) {
  auto gw = make({model("tiny-a")});
  ASSERT_TRUE(gw && gw->start());
  std::atomic<int> status{0};
  std::thread slow([&] { status = chat(gw->port(), "tiny-a", "slow").status; });
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-a")["state"] == "busy"; }, 10s));
  render(true);
  ASSERT_TRUE(wait_for([&] { return gw->state_json()["handoff"]["phase"] == "rendering"; }, 5s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(model_state(*gw, "tiny-a")["state"], "busy");  // never cut
  slow.join();
  EXPECT_EQ(status.load(), 200);
  // Then it yields, within a poll or two.
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-a")["state"] == "stopped"; }, 5s))
      << gw->state_json().dump(1);
  render(false);
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-a")["state"] == "ready"; }, 10s))
      << gw->state_json().dump(1);
  EXPECT_EQ(count_events(*gw, "restored", "tiny-a"), 1);
}

TEST_F(GatewayHandoff, RejectModeAnswers503WithRetryAfter) {
  std::ofstream(dir_.file("config.toml")) << "[ai_mode.image_generation]\n"
                                             "render_handoff = \"reject\"\n";
  auto gw = make({model("tiny-a")});
  ASSERT_TRUE(gw && gw->start());
  EXPECT_EQ(gw->state_json()["handoff"]["mode"], "reject");
  render(true);
  ASSERT_TRUE(wait_for([&] { return gw->state_json()["handoff"]["phase"] == "rendering"; }, 5s));
  const auto t0 = std::chrono::steady_clock::now();
  Answer a = chat(gw->port(), "tiny-a");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);  // at once, not after a wait
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.retry_after, "1");  // resume_after 0.5 s + poll 0.1 s, rounded up
  EXPECT_NE(a.body.find("an image render is running on comfyui at " + comfy_.url()),
            std::string::npos)
      << a.body;
  EXPECT_NE(a.body.find("render_handoff = reject"), std::string::npos) << a.body;
  EXPECT_EQ(gw->state_json()["handoff"]["requests_rejected"], 1);
  EXPECT_EQ(model_state(*gw, "tiny-a")["loads"], 0);
  render(false);
  ASSERT_TRUE(wait_for([&] { return gw->state_json()["handoff"]["phase"] == "idle"; }, 5s));
  EXPECT_EQ(chat(gw->port(), "tiny-a").status, 200);
}

TEST_F(GatewayHandoff, AVanishedServerOrAProfileSayingOffChangesNothing) {
  int gone = 0;
  {
    ReplayServer s;
    gone = s.port();
  }
  {
    auto gw = make({model("tiny-a")}, {{"a1111", "http://127.0.0.1:" + std::to_string(gone)}});
    ASSERT_TRUE(gw);
    // Before the first poll the server is listed as not read yet.
    EXPECT_EQ(gw->state_json()["handoff"]["servers"][0]["error"], "not read yet");
    ASSERT_TRUE(gw->start());
    ASSERT_TRUE(wait_for(
        [&] { return gw->state_json()["handoff"]["servers"][0]["error"] != "not read yet"; }, 5s));
    const json h = gw->state_json()["handoff"];
    EXPECT_EQ(h["phase"], "idle");
    EXPECT_NE(h["servers"][0]["error"].get<std::string>().find("/sdapi/v1/progress"),
              std::string::npos)
        << h.dump();
    EXPECT_FALSE(h["servers"][0].contains("running"));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(chat(gw->port(), "tiny-a").status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
    EXPECT_EQ(gw->state_json()["handoff"]["handoffs"], 0);
  }
  ASSERT_TRUE(policy::set_active_profile(dir_.path(), "local_llm"));
  auto gw = make({model("tiny-a")});
  ASSERT_TRUE(gw && gw->start());
  ASSERT_EQ(chat(gw->port(), "tiny-a").status, 200);
  render(true);
  std::this_thread::sleep_for(600ms);
  const json h = gw->state_json()["handoff"];
  EXPECT_EQ(h["mode"], "off");
  EXPECT_EQ(h["phase"], "idle");
  EXPECT_EQ(h["servers"][0]["running"], 1);  // it sees the render, and lets it be
  EXPECT_EQ(model_state(*gw, "tiny-a")["state"], "ready");
  EXPECT_EQ(chat(gw->port(), "tiny-a").status, 200);
  // Switching to image_generation while it renders starts the handoff at
  // the next poll, without a restart.
  ASSERT_TRUE(policy::set_active_profile(dir_.path(), "image_generation"));
  ASSERT_TRUE(wait_for([&] { return model_state(*gw, "tiny-a")["state"] == "stopped"; }, 5s));
  EXPECT_EQ(gw->state_json()["handoff"]["mode"], "queue");
}

TEST_F(GatewayHandoff, AnA1111RenderSleepsAVllmEndpointAndWakesItAfter) {
  ReplayServer a1111, vllm;
  a1111.on_fixture("GET /sdapi/v1/progress", "a1111-progress-idle.json");
  vllm.on_fixture("GET /v1/models", "vllm-v1-models.json");
  vllm.on("POST /sleep", 200, "");
  vllm.on("POST /wake_up", 200, "");
  vllm.on("POST /v1/chat/completions", 200,
          R"({"id":"x","object":"chat.completion","choices":[]})");
  ModelConfig v;
  v.name = "qwen-vllm";
  v.runtime = "vllm";
  v.endpoint = vllm.url();
  v.model = "Qwen/Qwen3-8B";
  max_queue_ = 1;
  auto gw = make({v}, {{"a1111", a1111.url()}});
  ASSERT_TRUE(gw && gw->start());
  a1111.on_fixture("GET /sdapi/v1/progress", "a1111-progress-busy.json");
  ASSERT_TRUE(wait_for([&] { return vllm.requests_to("POST", "/sleep").size() == 1; }, 5s))
      << gw->state_json().dump(1);
  EXPECT_EQ(vllm.requests_to("POST", "/sleep")[0].query, "level=1");
  ASSERT_TRUE(wait_for([&] { return gw->state_json()["handoff"]["yielded"].size() == 1; }, 2s));
  EXPECT_EQ(gw->state_json()["handoff"]["yielded"][0]["how"], "slept");
  EXPECT_EQ(gw->state_json()["handoff"]["servers"][0]["job"], "txt2img");
  // Held while it renders, served after.
  std::atomic<int> status{0};
  std::thread held([&] { status = chat(gw->port(), "qwen-vllm").status; });
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(status.load(), 0);
  EXPECT_TRUE(vllm.requests_to("POST", "/v1/chat/completions").empty());
  // It waits in the endpoint model's queue, which max_queue bounds.
  EXPECT_EQ(model_state(*gw, "qwen-vllm")["queued"], 1) << model_state(*gw, "qwen-vllm").dump();
  const Answer full = chat(gw->port(), "qwen-vllm");
  EXPECT_EQ(full.status, 503);
  EXPECT_NE(full.body.find("1 requests already wait (max_queue)"), std::string::npos) << full.body;
  EXPECT_EQ(full.retry_after, "1");
  EXPECT_TRUE(vllm.requests_to("POST", "/wake_up").empty());
  a1111.on_fixture("GET /sdapi/v1/progress", "a1111-progress-idle.json");
  held.join();
  EXPECT_EQ(status.load(), 200);
  ASSERT_TRUE(wait_for([&] { return vllm.requests_to("POST", "/wake_up").size() == 1; }, 5s));
  EXPECT_EQ(count_events(*gw, "restored", "qwen-vllm"), 1) << gw->state_json()["events"].dump(1);
  EXPECT_EQ(vllm.requests_to("POST", "/sleep").size(), 1u);  // once per render
}

}  // namespace
}  // namespace memopt::serve
