#include "ui/tray_menu.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "ui/tray_client.h"

namespace memopt::ui {
namespace {

using nlohmann::json;

json load_status() {
  std::ifstream in(std::string(MEMOPT_SOURCE_DIR) + "/tests/node/views/daemon_status.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::vector<std::string> labels(const TrayMenu& m) {
  std::vector<std::string> out;
  for (const auto& it : m.items)
    out.push_back(it.type == TrayItem::Type::kSeparator ? "---" : it.label);
  return out;
}

const TrayItem* find(const TrayMenu& m, const std::string& label) {
  for (const auto& it : m.items) {
    if (it.label == label) return &it;
  }
  return nullptr;
}

TEST(TrayMenu, FromTheDaemonStatusFixture) {
  const TrayMenu m = tray_menu_from_status(load_status(), true);
  // RAM: (68719476736 - 51539607552) / 68719476736 = 25%; VRAM:
  // 19864223744 / 25757220864 = 77.1% -> 77.
  EXPECT_EQ(m.header, "Memory 25% | VRAM 77%");
  const std::vector<std::string> want = {"Memory 25% | VRAM 77%",
                                         "---",
                                         "AI Mode",
                                         "  llama3.2:3b (ollama)  VRAM 3.3 GiB",
                                         "  qwen2:7b (ollama)  VRAM 3.7 GiB",
                                         "AI Mode: on (click to pause actions)",
                                         "---",
                                         "System Info",
                                         "  RAM 16.0 GiB / 64.0 GiB",
                                         "  GPU0 NVIDIA GeForce RTX 4090: 18.5 GiB / 24.0 GiB",
                                         "---",
                                         "Optimize AI Workload",
                                         "Compact KV Cache",
                                         "Unload Inactive Models",
                                         "---",
                                         "Profile",
                                         "Local LLM",
                                         "Batch Inference",
                                         "Image Generation",
                                         "---",
                                         "Open Dashboard",
                                         "Quit"};
  EXPECT_EQ(labels(m), want);
  ASSERT_NE(find(m, "Local LLM"), nullptr);
  EXPECT_TRUE(find(m, "Local LLM")->checked);
  EXPECT_EQ(find(m, "Local LLM")->type, TrayItem::Type::kRadio);
  EXPECT_FALSE(find(m, "Batch Inference")->checked);
  EXPECT_FALSE(find(m, "Image Generation")->checked);
  EXPECT_TRUE(find(m, "Optimize AI Workload")->sensitive);
  EXPECT_FALSE(find(m, "Memory 25% | VRAM 77%")->sensitive);
}

TEST(TrayMenu, KvCacheAndOtherProcessesAndNoGpu) {
  json s = {{"host", {{"total_bytes", 1000}, {"available_bytes", 900}}},
            {"gpus", json::array()},
            {"workloads",
             {{{"runtime", "llamacpp"},
               {"pid", 7},
               {"endpoint", "http://127.0.0.1:8080"},
               {"model", "m.gguf"}},
              {{"runtime", "other"}, {"pid", 8}, {"command", "Xorg"}, {"vram_bytes", 1 << 20}}}},
            {"loaded_models",
             {{{"runtime", "llamacpp"},
               {"name", "m.gguf"},
               {"endpoint", "http://127.0.0.1:8080"},
               {"vram_bytes", 2147483648ULL},
               {"kv_cache_bytes", 1073741824ULL},
               {"kv_cache_usage", 0.25}}}},
            {"profile", "image_generation"}};
  const TrayMenu m = tray_menu_from_status(s, false);
  EXPECT_EQ(m.header, "Memory 10% | VRAM no GPU");
  const auto l = labels(m);
  ASSERT_GE(l.size(), 4u);
  EXPECT_EQ(l[3], "  m.gguf (llamacpp)  VRAM 2.0 GiB  KV 256.0 MiB of 1.0 GiB");
  EXPECT_EQ(l[4], "---");  // Xorg ("other") is not an AI workload
  EXPECT_TRUE(find(m, "Image Generation")->checked);
  EXPECT_FALSE(find(m, "Local LLM")->checked);
  // No token: actions greyed; Open Dashboard and Quit stay.
  EXPECT_FALSE(find(m, "Compact KV Cache")->sensitive);
  EXPECT_FALSE(find(m, "Batch Inference")->sensitive);
  EXPECT_TRUE(find(m, "Open Dashboard")->sensitive);
  EXPECT_TRUE(find(m, "Quit")->sensitive);
}

// The AI Mode toggle says the daemon's state and asks for the other one.
TEST(TrayMenu, AiModeToggleFollowsTheDaemon) {
  json s = load_status();
  const TrayMenu active = tray_menu_from_status(s, true);
  const TrayItem* on = find(active, "AI Mode: on (click to pause actions)");
  ASSERT_NE(on, nullptr);
  ASSERT_TRUE(on->action);
  auto r = tray_request(*on->action, "tok");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "/api/v1/mode");
  EXPECT_EQ(json::parse(r->body), json({{"actions", "paused"}}));
  EXPECT_EQ(r->authorization, "Bearer tok");
  s["actions"] = "paused";
  const TrayMenu m = tray_menu_from_status(s, false);
  const TrayItem* off = find(m, "AI Mode: paused (click to resume actions)");
  ASSERT_NE(off, nullptr);
  EXPECT_FALSE(off->sensitive);  // no token: greyed like every act
  EXPECT_EQ(json::parse(tray_request(*off->action, "t")->body), json({{"actions", "active"}}));
  // A daemon that does not say (an older one, a hostile value): no toggle.
  s["actions"] = "sideways";
  const TrayMenu none = tray_menu_from_status(s, true);
  for (const auto& it : none.items) EXPECT_EQ(it.label.rfind("AI Mode:", 0), std::string::npos);
}

TEST(TrayMenu, HostileStatusStillGivesAMenu) {
  const TrayMenu m = tray_menu_from_status(
      json{{"host", "x"}, {"gpus", 3}, {"workloads", {1, "a", nullptr}}}, true);
  EXPECT_EQ(m.header, "Memory ? | VRAM no GPU");
  EXPECT_NE(find(m, "  no AI workloads"), nullptr);
  EXPECT_EQ(m.items.back().label, "Quit");
}

TEST(TrayMenu, NamesFromTheStatusCannotActOnTheMenu) {
  json s = json::parse(R"({"schema":"ruvector-memopt.status/1","workloads":[
    {"runtime":"ollama","model":"x","pid":1,"vram_bytes":1}],"gpus":[]})");
  s["workloads"][0]["model"] = std::string("evil\tname\x1b[31m\xff") + std::string(300, 'm');
  const TrayMenu m = tray_menu_from_status(s, true);
  const TrayItem* line = nullptr;
  for (const auto& it : m.items) {
    if (it.label.rfind("  evil", 0) == 0) line = &it;
  }
  ASSERT_NE(line, nullptr);
  EXPECT_NE(line->label.find("\\xff"), std::string::npos) << line->label;  // escaped, not raw
  EXPECT_EQ(line->label.size(), 122u);
  EXPECT_EQ(line->label.back(), '~');
  for (char c : line->label) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
}

TEST(TrayMenu, UnreachableDaemon) {
  const TrayMenu m = tray_menu_unreachable(std::string(500, 'x'));
  EXPECT_EQ(m.header, "Daemon unreachable");
  EXPECT_EQ(m.items[1].label.size(), 2u + 120u);
  EXPECT_FALSE(find(m, "Optimize AI Workload")->sensitive);
  EXPECT_TRUE(find(m, "Open Dashboard")->sensitive);
}

TEST(TrayMenu, RequestsAndDashboardUrl) {
  EXPECT_FALSE(tray_request({TrayActionKind::kQuit, ""}, "t"));
  EXPECT_FALSE(tray_request({TrayActionKind::kOpenDashboard, ""}, "t"));
  EXPECT_EQ(tray_dashboard_url("http://127.0.0.1:7878//"), "http://127.0.0.1:7878/");
  EXPECT_EQ(tray_dashboard_url("http://127.0.0.1:7878"), "http://127.0.0.1:7878/");
}

// A loopback daemon that records what reaches it.
struct Recorded {
  std::string method, path, body, authorization;
};

class FakeDaemon {
 public:
  FakeDaemon() {
    svr_.Post(R"(/api/v1/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      got_.push_back({req.method, req.path, req.body, req.get_header_value("Authorization")});
      if (req.get_header_value("Authorization") != "Bearer tok-123") {
        res.status = 401;
        res.set_content(R"({"error":"unauthorized"})", "application/json");
        return;
      }
      res.set_content(R"({"ok":true})", "application/json");
    });
    svr_.Get("/api/v1/status", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(load_status().dump(), "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    // The socket listens from bind on: requests queue until the loop runs.
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
  }
  ~FakeDaemon() {
    svr_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Recorded> got() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Recorded> got_;
};

TEST(TrayMenu, EveryActionReachesTheDaemonAsTheWebPageSendsIt) {
  FakeDaemon d;
  // Each API action of the real menu, in menu order.
  const TrayMenu m = tray_menu_from_status(load_status(), true);
  std::vector<ApiRequest> sent;
  for (const auto& it : m.items) {
    if (!it.action) continue;
    auto r = tray_request(*it.action, "tok-123");
    if (!r) continue;
    auto ok = tray_send(d.url(), *r, 2000);
    ASSERT_TRUE(ok) << it.label << ": " << ok.error().message;
    EXPECT_EQ(*ok, R"({"ok":true})");
  }
  const auto got = d.got();
  ASSERT_EQ(got.size(), 7u);
  const std::vector<std::pair<std::string, json>> want = {
      {"/api/v1/mode", {{"actions", "paused"}}},
      {"/api/v1/optimize", {{"apply", true}}},
      {"/api/v1/optimize", {{"apply", true}, {"kinds", json::array({"resize_context"})}}},
      {"/api/v1/optimize", {{"apply", true}, {"kinds", json::array({"unload"})}}},
      {"/api/v1/profile", {{"name", "local_llm"}}},
      {"/api/v1/profile", {{"name", "batch_inference"}}},
      {"/api/v1/profile", {{"name", "image_generation"}}}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].method, "POST");
    EXPECT_EQ(got[i].path, want[i].first);
    EXPECT_EQ(json::parse(got[i].body), want[i].second) << got[i].body;
    EXPECT_EQ(got[i].authorization, "Bearer tok-123");
  }
  // The status as the tray polls it.
  auto s = tray_fetch_status(d.url(), 2000);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(tray_menu_from_status(*s, true).header, "Memory 25% | VRAM 77%");
}

TEST(TrayMenu, RefusedTokenAndDeadDaemonAreClearErrors) {
  std::string dead_url;
  {
    FakeDaemon d;
    auto r = tray_send(d.url(), *tray_request({TrayActionKind::kOptimize, ""}, "wrong"), 2000);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("401 unauthorized"), std::string::npos) << r.error().message;
    dead_url = d.url();
  }
  auto s = tray_fetch_status(dead_url, 500);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("/api/v1/status"), std::string::npos) << s.error().message;
  EXPECT_FALSE(tray_fetch_status("not a url", 500));
}

}  // namespace
}  // namespace memopt::ui
