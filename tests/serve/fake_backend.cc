// A stand-in for llama-server in the gateway's own tests (src/serve/
// gateway_test.cc): GET /health answers at once; POST /v1/chat/completions
// answers "ok", after `slow_ms` milliseconds when the request's body holds
// "slow". Arguments as llama-server's: -m FILE (ignored; the gateway's
// planner reads it) --port N, and --api-key KEYS (comma-separated): then,
// as llama-server does, /v1/ requests without "Authorization: Bearer <one
// of them>" get 401 (GET /health stays open). Keys from LLAMA_API_KEY in its
// environment and --api-key-file FILE's lines count too, as llama-server
// takes them all.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  int port = 0;
  int slow_ms = 2500;
  std::vector<std::string> keys;
  auto add_keys = [&keys](const std::string &list) {
    for (size_t at = 0; at <= list.size();) {
      const size_t comma = std::min(list.find(',', at), list.size());
      keys.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
  };
  if (const char *env = std::getenv("LLAMA_API_KEY"); env && *env) add_keys(env);
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--slow-ms") == 0) slow_ms = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--api-key") == 0) add_keys(argv[i + 1]);
    if (std::strcmp(argv[i], "--api-key-file") == 0) {
      // One key a line, empty lines skipped, as llama-server reads it; a
      // file it cannot read stops it.
      std::ifstream f(argv[i + 1]);
      if (!f) return 3;
      for (std::string line; std::getline(f, line);) {
        if (!line.empty()) keys.push_back(line);
      }
    }
  }
  if (port <= 0) return 2;
  httplib::Server server;
  server.Get("/health", [](const httplib::Request &, httplib::Response &res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server.Post("/v1/chat/completions", [slow_ms, keys](const httplib::Request &req,
                                                      httplib::Response &res) {
    if (!keys.empty()) {
      const std::string auth = req.get_header_value("Authorization");
      bool ok = false;
      for (const auto &k : keys) ok = ok || auth == "Bearer " + k;
      if (!ok) {
        res.status = 401;
        res.set_content(R"({"error":{"code":401,"message":"Invalid API Key",)"
                        R"("type":"authentication_error"}})",
                        "application/json");
        return;
      }
    }
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
