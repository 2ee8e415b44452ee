#include "assembler/gateway_collector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "assembler/assembler.h"
#include "snapshot/snapshot_json.h"

namespace memopt::assembler {
namespace {

using nlohmann::json;

// GET /serve/state of the real gateway (`serve` with tiny-a loaded and
// answering a stream, tiny-b waiting for it, too-big never loaded), recorded
// in a run of tests/node/gateway_views.mjs.
std::string recorded_state() {
  std::ifstream in(std::string(MEMOPT_FIXTURES_DIR) + "/serve/serve-state.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A loopback gateway replaying one answer (status, body); it can ask for a
// bearer key like the real one.
class ReplayGateway {
 public:
  ReplayGateway(int status, std::string body, std::string key = "")
      : status_(status), body_(std::move(body)), key_(std::move(key)) {
    server_.Get("/serve/state", [this](const httplib::Request& req, httplib::Response& res) {
      if (!key_.empty() && req.get_header_value("Authorization") != "Bearer " + key_) {
        res.status = 401;
        res.set_content(R"({"error":{"message":"this gateway needs Authorization: Bearer <api_key>"}})",
                        "application/json");
        return;
      }
      res.status = status_;
      res.set_content(body_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ReplayGateway() {
    server_.stop();
    thread_.join();
  }
  std::string listen() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int status_;
  std::string body_, key_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// A raw loopback socket that reads the request, then writes `reply` and
// closes (a body cut short), or writes nothing and holds the connection
// (a gateway that hangs) until destroyed.
class RawServer {
 public:
  explicit RawServer(std::string reply, bool hang = false) : reply_(std::move(reply)), hang_(hang) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      (void)::recv(c, buf, sizeof buf, 0);
      if (!hang_) (void)::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      while (hang_ && !done_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      ::close(c);
    });
  }
  ~RawServer() {
    done_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string listen() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string reply_;
  bool hang_;
  std::atomic<bool> done_{false};
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

runtimes::HttpOptions fast() { return AssembleOptions::fast_http(); }

TEST(GatewayCollector, ReadsTheRecordedServeState) {
  const std::string body = recorded_state();
  ASSERT_FALSE(body.empty());
  ReplayGateway gw(200, body);
  const snapshot::GatewayStatus g = collect_gateway({gw.listen(), "", ""}, fast());
  ASSERT_TRUE(g.reachable) << g.error;
  EXPECT_EQ(g.error, "");
  EXPECT_EQ(g.listen, gw.listen());
  // Every model of the document, with the document's own figures.
  const json doc = json::parse(body);
  ASSERT_EQ(g.models.size(), doc["models"].size());
  ASSERT_EQ(g.devices.size(), doc["devices"].size());
  EXPECT_EQ(g.devices[0].device, doc["devices"][0]["device"].get<std::string>());
  EXPECT_EQ(g.devices[0].budget_bytes, doc["devices"][0]["budget_bytes"].get<uint64_t>());
  for (size_t i = 0; i < g.models.size(); ++i) {
    const json& m = doc["models"][i];
    SCOPED_TRACE(m["name"].get<std::string>());
    EXPECT_EQ(g.models[i].name, m["name"].get<std::string>());
    EXPECT_EQ(g.models[i].state, m["state"].get<std::string>());
    EXPECT_EQ(g.models[i].queued, m["queued"].get<uint64_t>());
    EXPECT_EQ(g.models[i].in_flight, m["in_flight"].get<uint64_t>());
    EXPECT_EQ(g.models[i].planned_bytes, m["planned_bytes"].get<std::vector<uint64_t>>());
    EXPECT_EQ(g.models[i].pid, m.contains("pid") ? m["pid"].get<int>() : 0);
    EXPECT_DOUBLE_EQ(g.models[i].oldest_wait_seconds, m["oldest_wait_seconds"].get<double>());
  }
  // The recording: tiny-a streaming (busy, a backend pid), tiny-b waiting
  // for it, too-big never started.
  const auto* a = &g.models[0];
  EXPECT_EQ(a->name, "tiny-a");
  EXPECT_EQ(a->state, "busy");
  EXPECT_GT(a->pid, 0);
  EXPECT_EQ(a->in_flight, 1u);
  EXPECT_GT(a->planned_bytes.at(0), 1000000u);
  EXPECT_TRUE(a->mean_wait_seconds.has_value());
  EXPECT_EQ(g.models[1].name, "tiny-b");
  EXPECT_EQ(g.models[1].queued, 1u);
  EXPECT_GT(g.models[1].oldest_wait_seconds, 0.0);
  EXPECT_EQ(g.models[2].state, "stopped");
  EXPECT_EQ(g.models[2].pid, 0);
}

TEST(GatewayCollector, SendsTheApiKey) {
  ReplayGateway gw(200, recorded_state(), "s3cret");
  EXPECT_TRUE(collect_gateway({gw.listen(), "s3cret", ""}, fast()).reachable);
  const auto without = collect_gateway({gw.listen(), "", ""}, fast());
  EXPECT_FALSE(without.reachable);
  EXPECT_NE(without.error.find("HTTP 401"), std::string::npos) << without.error;
  EXPECT_NE(without.error.find("/serve/state"), std::string::npos) << without.error;
}

TEST(GatewayCollector, HttpErrorIsTheSectionsError) {
  ReplayGateway gw(500, R"({"error":{"message":"boom"}})");
  const auto g = collect_gateway({gw.listen(), "", ""}, fast());
  EXPECT_FALSE(g.reachable);
  EXPECT_NE(g.error.find("HTTP 500"), std::string::npos) << g.error;
  EXPECT_NE(g.error.find("boom"), std::string::npos) << g.error;
  EXPECT_TRUE(g.models.empty());
}

TEST(GatewayCollector, TruncatedDocumentIsAnError) {
  const std::string body = recorded_state();
  ReplayGateway gw(200, body.substr(0, body.size() / 2));
  const auto g = collect_gateway({gw.listen(), "", ""}, fast());
  EXPECT_FALSE(g.reachable);
  EXPECT_NE(g.error.find("not JSON"), std::string::npos) << g.error;
}

TEST(GatewayCollector, BodyCutByTheConnectionIsAnError) {
  const std::string body = recorded_state();
  RawServer raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 100));
  const auto g = collect_gateway({raw.listen(), "", ""}, fast());
  EXPECT_FALSE(g.reachable);
  EXPECT_FALSE(g.error.empty());
  EXPECT_TRUE(g.models.empty());
}

TEST(GatewayCollector, HangingGatewayTimesOut) {
  RawServer raw("", /*hang=*/true);
  const auto t0 = std::chrono::steady_clock::now();
  const auto g = collect_gateway({raw.listen(), "", ""}, fast());
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(g.reachable);
  EXPECT_FALSE(g.error.empty());
  EXPECT_LT(took, 2.0);  // the view's timeouts (600 ms total), not the kernel's
}

TEST(GatewayCollector, RefusedAndBadAddresses) {
  int port = 0;
  {
    httplib::Server s;
    port = s.bind_to_any_port("127.0.0.1");
  }  // closed again: nothing listens there now
  const auto refused = collect_gateway({"127.0.0.1:" + std::to_string(port), "", ""}, fast());
  EXPECT_FALSE(refused.reachable);
  EXPECT_FALSE(refused.error.empty());
  const auto bad = collect_gateway({"ftp://x:1", "", ""}, fast());
  EXPECT_NE(bad.error.find("[serve] listen 'ftp://x:1'"), std::string::npos) << bad.error;
  const auto cfg = collect_gateway({"", "", "config.toml:3: key 'serve.max_queue' ..."}, fast());
  EXPECT_FALSE(cfg.reachable);
  EXPECT_EQ(cfg.error, "config.toml:3: key 'serve.max_queue' ...");
}

TEST(GatewayCollector, BindAllListenIsReachedOnLoopback) {
  auto b = gateway_base_url("0.0.0.0:8080");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->str(), "http://127.0.0.1:8080");
  EXPECT_EQ(gateway_base_url("127.0.0.1:9")->port, 9);
}

TEST(GatewayCollector, HostileDocuments) {
  snapshot::GatewayStatus g;
  EXPECT_FALSE(read_serve_state(json::array(), g));
  auto st = read_serve_state(json{{"schema", "other/1"}, {"models", json::array()}}, g);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("other/1"), std::string::npos);
  st = read_serve_state(json{{"schema", "ruvector-memopt.serve-state/1"}, {"models", 3}}, g);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("models"), std::string::npos);
  st = read_serve_state(
      json{{"schema", "ruvector-memopt.serve-state/1"},
           {"models", json::array({json{{"name", "m"}, {"state", "exploded"}}})}},
      g);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("exploded"), std::string::npos);
  json many = json::array();
  for (int i = 0; i < 2000; ++i) many.push_back(json{{"name", "m"}, {"state", "ready"}});
  st = read_serve_state(json{{"schema", "ruvector-memopt.serve-state/1"}, {"models", many}}, g);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("2000"), std::string::npos);
  // Wrong types are absent, control characters are not passed on, a pid out
  // of range is no pid, negative waits are none.
  snapshot::GatewayStatus ok;
  st = read_serve_state(
      json{{"schema", "ruvector-memopt.serve-state/1"},
           {"models", json::array({json{{"name", "a\x1b[2Jb"},
                                        {"state", "ready"},
                                        {"pid", 99999999999},
                                        {"queued", "many"},
                                        {"oldest_wait_seconds", -5},
                                        {"mean_wait_seconds", -1.0},
                                        {"planned_bytes", json::array({1, "x", -3})}}})}},
      ok);
  ASSERT_TRUE(st) << st.error().message;
  ASSERT_EQ(ok.models.size(), 1u);
  EXPECT_EQ(ok.models[0].name, "a?[2Jb");
  EXPECT_EQ(ok.models[0].pid, 0);
  EXPECT_EQ(ok.models[0].queued, 0u);
  EXPECT_EQ(ok.models[0].oldest_wait_seconds, 0.0);
  EXPECT_FALSE(ok.models[0].mean_wait_seconds.has_value());
  EXPECT_EQ(ok.models[0].planned_bytes, (std::vector<uint64_t>{1, 0, 0}));
}

TEST(GatewayCollector, JoinsTheBackendProcessByPid) {
  ReplayGateway gw(200, recorded_state());
  const auto g = collect_gateway({gw.listen(), "", ""}, fast());
  ASSERT_TRUE(g.reachable);
  std::vector<snapshot::Workload> ws(2);
  ws[0].runtime = "llama.cpp";
  ws[0].pid = 4242;
  ws[0].pids = {4242, g.models[0].pid};  // the backend is one of its processes
  ws[1].runtime = "ollama";
  ws[1].pid = 1;
  join_gateway(ws, g);
  EXPECT_EQ(ws[0].gateway_model, "tiny-a");
  EXPECT_EQ(ws[1].gateway_model, "");
}

TEST(GatewayCollector, SectionRoundTripsThroughTheStatusDocument) {
  ReplayGateway gw(200, recorded_state());
  snapshot::Snapshot s;
  s.gateway = collect_gateway({gw.listen(), "", ""}, fast());
  const json doc = snapshot::to_json(s);
  ASSERT_TRUE(doc["gateway"].is_object());
  EXPECT_EQ(doc["gateway"]["reachable"], true);
  EXPECT_EQ(doc["gateway"]["models"][0]["state"], "busy");
  EXPECT_EQ(doc["gateway"]["models"][2]["pid"], nullptr);
  auto back = snapshot::from_json(doc);
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->gateway);
  ASSERT_EQ(back->gateway->models.size(), s.gateway->models.size());
  for (size_t i = 0; i < s.gateway->models.size(); ++i) {
    EXPECT_EQ(back->gateway->models[i].name, s.gateway->models[i].name);
    EXPECT_EQ(back->gateway->models[i].state, s.gateway->models[i].state);
    EXPECT_EQ(back->gateway->models[i].pid, s.gateway->models[i].pid);
    EXPECT_EQ(back->gateway->models[i].queued, s.gateway->models[i].queued);
    EXPECT_EQ(back->gateway->models[i].planned_bytes, s.gateway->models[i].planned_bytes);
    EXPECT_EQ(back->gateway->models[i].mean_wait_seconds, s.gateway->models[i].mean_wait_seconds);
  }
  snapshot::Snapshot none;
  EXPECT_TRUE(snapshot::to_json(none)["gateway"].is_null());
}

TEST(GatewayCollector, ReadsTheImageGenerationHandoff) {
  json doc = json::parse(recorded_state());
  {
    ReplayGateway gw(200, doc.dump());  // a gateway without the section (or an older one)
    const auto g = collect_gateway({gw.listen(), "", ""}, fast());
    ASSERT_TRUE(g.reachable) << g.error;
    EXPECT_FALSE(g.handoff.has_value());
  }
  doc["handoff"] = json::parse(R"({"enabled":true,"profile":"image_generation","mode":"queue",
    "phase":"rendering","handoffs":2,"requests_held":3,"requests_rejected":0,
    "servers":[{"runtime":"a1111","url":"http://127.0.0.1:7860","error":"refused"},
               {"runtime":"comfyui","url":"http://127.0.0.1:8188\u001b[2J","running":1,
                "pending":2,"job":"prompt x","error":null}]})");
  ReplayGateway gw(200, doc.dump());
  const auto g = collect_gateway({gw.listen(), "", ""}, fast());
  ASSERT_TRUE(g.reachable) << g.error;
  ASSERT_TRUE(g.handoff.has_value());
  EXPECT_EQ(g.handoff->phase, "rendering");
  EXPECT_EQ(g.handoff->mode, "queue");
  EXPECT_EQ(g.handoff->handoffs, 2u);
  EXPECT_EQ(g.handoff->requests_held, 3u);
  // The server with a job, its control characters made harmless.
  EXPECT_EQ(g.handoff->rendering_on, "comfyui at http://127.0.0.1:8188?[2J");
  snapshot::Snapshot s;
  s.gateway = g;
  const json out = snapshot::to_json(s);
  EXPECT_EQ(out["gateway"]["handoff"]["phase"], "rendering");
  EXPECT_EQ(out["gateway"]["handoff"]["requests_held"], 3);
  EXPECT_EQ(out["gateway"]["handoff"]["holding"], true);  // the page styles the line by it
  auto back = snapshot::from_json(out);
  ASSERT_TRUE(back && back->gateway && back->gateway->handoff);
  EXPECT_EQ(back->gateway->handoff->rendering_on, g.handoff->rendering_on);
  EXPECT_EQ(back->gateway->handoff->handoffs, 2u);
  // Not enabled, or not an object: no section.
  doc["handoff"] = json::parse(R"({"enabled":false,"phase":"idle"})");
  ReplayGateway off(200, doc.dump());
  EXPECT_FALSE(collect_gateway({off.listen(), "", ""}, fast()).handoff.has_value());
  doc["handoff"] = "rendering";
  ReplayGateway odd(200, doc.dump());
  const auto o = collect_gateway({odd.listen(), "", ""}, fast());
  EXPECT_TRUE(o.reachable);
  EXPECT_FALSE(o.handoff.has_value());
}

TEST(GatewayCollector, AssemblerCarriesTheSection) {
  AssembleOptions o;
  o.proc_root = "/nonexistent-proc";
  o.strict = false;
  o.query_runtimes = false;
  o.gateway = GatewayTarget{"127.0.0.1:1", "", ""};
  AssemblerSources src;
  src.gpus = [] { return gpu::GpuSnapshot{}; };
  int asked = 0;
  src.gateway_state = [&](const GatewayTarget& t) {
    ++asked;
    snapshot::GatewayStatus g;
    g.listen = t.listen;
    g.error = "replayed";
    return g;
  };
  SnapshotAssembler a(o, src);
  auto s = a.assemble(1.0);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->gateway);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(s->gateway->listen, "127.0.0.1:1");
  EXPECT_EQ(s->gateway->error, "replayed");
  o.gateway.reset();
  SnapshotAssembler none(o, src);
  EXPECT_FALSE(none.assemble(2.0)->gateway);
}

// A gateway whose budget is per GPU says which GPU each device is (the
// daemon announces a loading model's planned bytes there); RAM has none.
TEST(GatewayCollector, DevicesCarryTheirGpuIndex) {
  json doc = json::parse(recorded_state());
  {
    snapshot::GatewayStatus g;
    ASSERT_TRUE(read_serve_state(doc, g));
    ASSERT_EQ(g.devices.size(), 1u);
    EXPECT_EQ(g.devices[0].device, "RAM");
    EXPECT_EQ(g.devices[0].gpu, -1);
  }
  doc["devices"] = json::array({{{"device", "GPU 0"}, {"budget_bytes", 1}, {"gpu", 0}},
                                {{"device", "GPU 2"}, {"budget_bytes", 1}, {"gpu", 2}},
                                {{"device", "GPU x"}, {"gpu", -2}},
                                {{"device", "GPU y"}, {"gpu", "1"}},
                                {{"device", "GPU z"}, {"gpu", 1e12}}});
  snapshot::GatewayStatus g;
  ASSERT_TRUE(read_serve_state(doc, g));
  ASSERT_EQ(g.devices.size(), 5u);
  EXPECT_EQ(g.devices[0].gpu, 0);
  EXPECT_EQ(g.devices[1].gpu, 2);
  EXPECT_EQ(g.devices[2].gpu, -1);  // hostile values are "no GPU", never an index
  EXPECT_EQ(g.devices[3].gpu, -1);
  EXPECT_EQ(g.devices[4].gpu, -1);
  // Through the status document and back.
  snapshot::Snapshot s;
  g.reachable = true;
  s.gateway = g;
  const json status = snapshot::to_json(s);
  EXPECT_EQ(status["gateway"]["devices"][1]["gpu"], 2);
  EXPECT_TRUE(status["gateway"]["devices"][2]["gpu"].is_null());
  auto back = snapshot::from_json(status);
  ASSERT_TRUE(back && back->gateway);
  EXPECT_EQ(back->gateway->devices[1].gpu, 2);
  EXPECT_EQ(back->gateway->devices[2].gpu, -1);
}

}  // namespace
}  // namespace memopt::assembler
