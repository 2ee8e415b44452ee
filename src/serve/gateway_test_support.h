#pragma once
// What the gateway's in-process tests (gateway_test.cc,
// gateway_handoff_test.cc) read back from a running Gateway.
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "serve/gateway.h"

namespace memopt::serve::test_support {

// One model's entry of GET /serve/state (null when none has that name).
inline nlohmann::json model_state(const Gateway &gw, const std::string &name) {
  const nlohmann::json st = gw.state_json();
  for (const auto &m : st["models"]) {
    if (m["name"] == name) return m;
  }
  return nlohmann::json();
}

// Polls `cond` every 20 ms until it holds or `limit` passes; its last value.
inline bool wait_for(const std::function<bool()> &cond, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

// A whole line of a /metrics text.
inline bool has_line(const std::string &text, const std::string &line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace memopt::serve::test_support
