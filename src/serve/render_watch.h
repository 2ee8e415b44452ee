#pragma once
// One poll of the image servers the gateway watches ([serve.image_generation]):
// each server's render queue through its runtime client (ComfyUI GET /queue,
// AUTOMATIC1111 GET /sdapi/v1/progress, runtimes/image_gen.h), within a
// bounded time; a server that does not answer is reported, never waited for.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runtimes/image_gen.h"
#include "serve/config.h"

namespace memopt::serve {

struct RenderServerStatus {
  std::string runtime, url;
  std::optional<runtimes::RenderQueue> queue;  // nullopt: it did not answer (error says why)
  std::string error;
};

// Every endpoint in turn; each takes at most `timeout` (connect and answer).
std::vector<RenderServerStatus> poll_render_servers(const std::vector<RenderEndpoint> &endpoints,
                                                    std::chrono::milliseconds timeout);

// Some server has a job queued or running.
bool any_rendering(const std::vector<RenderServerStatus> &servers);

}  // namespace memopt::serve
