#include "serve/render_watch.h"

namespace memopt::serve {

std::vector<RenderServerStatus> poll_render_servers(const std::vector<RenderEndpoint> &endpoints,
                                                    std::chrono::milliseconds timeout) {
  runtimes::HttpOptions o;
  o.connect_timeout = std::min(timeout, o.connect_timeout);
  o.read_timeout = o.total_timeout = timeout;
  std::vector<RenderServerStatus> out;
  for (const RenderEndpoint &e : endpoints) {
    RenderServerStatus st{e.runtime, e.url, std::nullopt, ""};
    const bool comfy = e.runtime == "comfyui";
    auto base = runtimes::parse_base_url(e.url, comfy ? 8188 : 7860);
    Result<runtimes::RenderQueue> q =
        !base    ? Result<runtimes::RenderQueue>(base.error())
        : comfy ? runtimes::ComfyUIClient(*base, o).render_queue()
                 : runtimes::A1111Client(*base, o).render_queue();
    if (q) {
      st.queue = std::move(*q);
    } else {
      st.error = q.error().message;
    }
    out.push_back(std::move(st));
  }
  return out;
}

bool any_rendering(const std::vector<RenderServerStatus> &servers) {
  for (const auto &s : servers) {
    if (s.queue && s.queue->busy()) return true;
  }
  return false;
}

}  // namespace memopt::serve
