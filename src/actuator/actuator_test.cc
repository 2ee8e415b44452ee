// The actuator against a loopback llama-server in router mode that was
// started with --api-key: its /props and /models/unload answer only with
// the key (401 otherwise, as llama-server does), so an unload goes through
// only once the actuator has the key for that endpoint (Actuator::set_keys),
// and another endpoint's key is not sent to it.
#include "actuator/actuator.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "support/replay_server.h"

namespace memopt::actuator {
namespace {

TEST(RuntimeActuator, SendsAServerItsKeyWithAnAction) {
  const std::string props = memopt::testing::fixture("llamacpp-props-router.json");
  httplib::Server server;
  std::atomic<int> unloaded{0};
  auto keyed = [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") == "Bearer sk-router-77") return true;
    res.status = 401;
    res.set_content(R"({"error":{"code":401,"message":"Invalid API Key",)"
                    R"("type":"authentication_error"}})",
                    "application/json");
    return false;
  };
  server.Get("/props", [&](const httplib::Request& req, httplib::Response& res) {
    if (keyed(req, res)) res.set_content(props, "application/json");
  });
  server.Post("/models/unload", [&](const httplib::Request& req, httplib::Response& res) {
    if (!keyed(req, res)) return;
    if (req.body.find("\"qwen3-8b\"") == std::string::npos) {
      res.status = 400;
      return;
    }
    ++unloaded;
    res.set_content(R"({"success":true})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  policy::Action a;
  a.kind = policy::ActionKind::kUnload;
  a.runtime = "llama.cpp";
  a.endpoint = base;
  a.model = "qwen3-8b";
  auto act = make_runtime_actuator();
  auto st = act->apply(a);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("HTTP 401: Invalid API Key"), std::string::npos)
      << st.error().message;
  act->set_keys({{"http://127.0.0.1:1", "sk-router-77"}});  // another server's
  EXPECT_FALSE(act->apply(a));
  act->set_keys({{base, "sk-router-77"}});
  st = act->apply(a);
  EXPECT_TRUE(st) << st.error().message;
  EXPECT_EQ(unloaded.load(), 1);
  server.stop();
  t.join();
}

}  // namespace
}  // namespace memopt::actuator
