// What the Snapshot's types say of themselves (the sentences every view
// shares); their JSON form is snapshot_json.cc.
#include "snapshot/snapshot.h"

#include <fmt/format.h>

namespace memopt::snapshot {

bool GatewayHandoff::holding() const { return mode != "off" && phase != "idle"; }

std::string GatewayHandoff::summary() const {
  const char* requests = mode == "reject" ? "get 503" : "wait";
  if (mode == "off") return "off (the active profile's render_handoff)";
  if (!holding()) {
    return fmt::format("idle; on a render models yield, requests {} ({} so far)", requests,
                       handoffs);
  }
  return fmt::format("{}: models yield, requests {}; {} held, {} refused",
                     rendering_on.empty() ? std::string("render ending")
                                          : "rendering on " + rendering_on,
                     requests, requests_held, requests_rejected);
}

}  // namespace memopt::snapshot
