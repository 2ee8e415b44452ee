#pragma once
// A cheap HTTP GET on loopback used to confirm a runtime behind a port: one
// request, a short timeout, a bounded answer. Refuses non-loopback hosts.
#include <chrono>
#include <cstdint>
#include <string>

#include "util/result.h"

namespace memopt::detect {

struct HttpAnswer {
  int status = 0;
  std::string body;  // at most max_bytes
};

// GET http://host:port/path. host must be "127.0.0.1" (or 127.x.y.z) or "::1".
Result<HttpAnswer> loopback_get(const std::string& host, uint16_t port, const std::string& path,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(300),
                                size_t max_bytes = 64 * 1024);

}  // namespace memopt::detect
