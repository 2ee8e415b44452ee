#pragma once
// The gateway collector: reads GET /serve/state of the `serve` gateway named
// by config.toml's [serve] listen into the Snapshot's gateway section. It
// never fails the reading: a gateway that does not answer, answers with an
// HTTP error or sends a document it cannot read leaves the section with
// reachable = false and the error; the other collectors report as usual.
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "runtimes/http.h"
#include "snapshot/snapshot.h"
#include "util/result.h"

namespace memopt::assembler {

// Where to find the gateway: its listen address as config.toml writes it
// ("127.0.0.1:8080", "0.0.0.0:8080", "[::1]:8080", "http://host:port") and
// its api_key ("" when none).
struct GatewayTarget {
  std::string listen;
  std::string api_key;
  std::string config_error;  // the [serve] table could not be read: reported as the error
};

snapshot::GatewayStatus collect_gateway(const GatewayTarget& target,
                                        const runtimes::HttpOptions& http);

// The section from a serve-state document `doc` of the gateway at `target`,
// read from `source` (named in errors: "GET http://.../serve/state"). What
// collect_gateway does with the body it fetched, and what `daemon --serve`
// does with its in-process gateway's document (no HTTP in between).
snapshot::GatewayStatus gateway_status_from_document(const GatewayTarget& target,
                                                     const nlohmann::json& doc,
                                                     const std::string& source);

// A serve-state document (schema ruvector-memopt.serve-state/1) into the
// section's devices and models. Untrusted: wrong types leave a field empty,
// strings are bounded, lists capped; an error names what is wrong.
Status read_serve_state(const nlohmann::json& doc, snapshot::GatewayStatus& into);

// The address to connect to for a listen address: a bind-all host (0.0.0.0,
// ::, empty) is reached on loopback.
Result<runtimes::BaseUrl> gateway_base_url(const std::string& listen);

}  // namespace memopt::assembler
