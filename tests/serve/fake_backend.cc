// A stand-in for llama-server in the gateway's own tests (src/serve/
// gateway_test.cc): GET /health answers at once; POST /v1/chat/completions
// answers "ok", after `slow_ms` milliseconds when the request's body holds
// "slow". Arguments as llama-server's: -m FILE (ignored; the gateway's
// planner reads it) --port N.
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

int main(int argc, char **argv) {
  int port = 0;
  int slow_ms = 2500;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--slow-ms") == 0) slow_ms = std::atoi(argv[i + 1]);
  }
  if (port <= 0) return 2;
  httplib::Server server;
  server.Get("/health", [](const httplib::Request &, httplib::Response &res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server.Post("/v1/chat/completions", [slow_ms](const httplib::Request &req,
                                                httplib::Response &res) {
    if (req.body.find("slow") != std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
    }
    res.set_content(R"({"id":"fake","object":"chat.completion","created":0,"model":"fake",)"
                    R"("choices":[{"index":0,"message":{"role":"assistant","content":"ok"},)"
                    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,)"
                    R"("total_tokens":2}})",
                    "application/json");
  });
  return server.listen("127.0.0.1", port) ? 0 : 1;
}
