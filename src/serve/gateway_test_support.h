#pragma once
// What the gateway's in-process tests (gateway_test.cc,
// gateway_handoff_test.cc) read back from a running Gateway.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "serve/gateway.h"

namespace memopt::serve::test_support {

// A gateway over the directory `dir` (logs, state, a sysfs without GPUs and an NVML library
// that is not there: the budget is on RAM whatever the machine has), quick
// to release and stop; null (and a test failure) when it cannot be created.
inline std::unique_ptr<Gateway> create_ram_gateway(GatewayOptions o, const std::string &dir) {
  using namespace std::chrono_literals;
  o.log_dir = dir + "/logs";
  o.state_dir = dir;
  o.sys_root = dir + "/sys";
  o.nvml_library = dir + "/no-nvml.so";
  o.release_timeout = 10s;
  o.stop_grace = 2s;
  auto gw = Gateway::create(std::move(o));
  EXPECT_TRUE(gw) << gw.error().message;
  return gw ? std::move(*gw) : nullptr;
}

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
