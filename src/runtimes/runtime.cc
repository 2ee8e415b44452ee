#include "runtimes/runtime.h"

#include "runtimes/registry.h"

namespace memopt::runtimes {

std::string_view runtime_name(RuntimeKind kind) {
  return kind.id().empty() ? std::string_view("unknown") : kind.id();
}

std::optional<RuntimeKind> runtime_from_name(std::string_view name) {
  const RuntimeDescriptor* d = find_runtime(name);
  if (d == nullptr || !d->has_client()) return std::nullopt;
  return d->kind;
}

int default_port(RuntimeKind kind) {
  const RuntimeDescriptor* d = find_runtime(kind.id());
  return d == nullptr ? 0 : d->api_port();
}

std::vector<RuntimeKind> all_runtime_kinds() {
  std::vector<RuntimeKind> out;
  for (const RuntimeDescriptor* d : all_runtimes()) {
    if (d->has_client()) out.push_back(d->kind);
  }
  return out;
}

Capabilities RuntimeClient::capabilities() const {
  const RuntimeDescriptor* d = find_runtime(kind().id());
  return d == nullptr ? Capabilities{} : d->capabilities;
}

Error RuntimeClient::not_supported(std::string_view action) const {
  return make_error(std::string(action) + " is not supported by " + std::string(name()) + " (" +
                    base_url() + ")");
}

Status RuntimeClient::unload(const std::string&) const { return not_supported("unload"); }

Status RuntimeClient::preload(const std::string&, const PreloadOptions&) const {
  return not_supported("preload");
}

std::unique_ptr<RuntimeClient> make_client(RuntimeKind kind, const BaseUrl& base,
                                           const HttpOptions& options) {
  const RuntimeDescriptor* d = find_runtime(kind.id());
  if (d == nullptr || d->make_client == nullptr) return nullptr;
  return d->make_client(base, options);
}

}  // namespace memopt::runtimes
