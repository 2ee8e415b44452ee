#pragma once
// Which runtime answers at a URL, and where to look for runtimes at all.
// The probe is cheap (a few GETs, loopback timeouts) so the detector can call
// it for every listening port it finds.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/http.h"
#include "runtimes/runtime.h"

namespace memopt::runtimes {

// Identifies the runtime at `base` by asking each registered runtime's
// identify step in probe_order (registry.h): Ollama's /api/version first,
// then llama.cpp's /props, the /v1/models owners, TGI's /info, ComfyUI's
// /system_stats, A1111's options. Errors: nothing listens (the HTTP error) or
// it is not a runtime we know.
Result<RuntimeKind> probe(const BaseUrl& base, const HttpOptions& options = {});
// Same, from text such as "127.0.0.1:8080" (port required or 80).
Result<RuntimeKind> probe(std::string_view url, const HttpOptions& options = {});

struct Endpoint {
  std::optional<RuntimeKind> kind;  // nullopt: probe to find out
  BaseUrl url;
  bool explicit_ = false;  // named by the user: failures are reported, not skipped
  std::string key{};       // bearer token its server asks for (detect::sendable_key), "" none
};

struct DiscoveryInput {
  std::vector<Endpoint> explicit_endpoints;  // from --endpoint / --ollama-host ...
  std::vector<Endpoint> detected;            // from the process scan (ports)
  // Runtimes' own host variables that are set ("OLLAMA_HOST" -> value).
  std::map<std::string, std::string> host_env;
};

// The endpoints to query: the explicit ones only, if any; otherwise the
// detected ones plus every runtime's default loopback port (or its host
// variable, OLLAMA_HOST, when set), without duplicates. Pure.
Result<std::vector<Endpoint>> discover_endpoints(const DiscoveryInput& input);

}  // namespace memopt::runtimes
