#include "actuator/actuator.h"

#include <mutex>
#include <optional>

#include "policy/profile_effects.h"
#include "runtimes/image_gen.h"
#include "runtimes/runtime.h"

namespace memopt::actuator {
namespace {

class RuntimeActuator : public Actuator {
 public:
  Status apply(const policy::Action& a) override {
    auto client = client_for(a.runtime, a.endpoint);
    if (!client) return client.error();
    auto& c = **client;
    using policy::ActionKind;
    switch (a.kind) {
      case ActionKind::kUnload:
        return c.unload(a.model);
      case ActionKind::kFreeImageCache:
        return c.unload(a.runtime == "comfyui" ? std::string(runtimes::kComfyModelName) : a.model);
      case ActionKind::kReloadFewerLayers:
      case ActionKind::kRestoreLayers: {
        if (!c.capabilities().reload) return unsupported(a, "-ngl " + std::to_string(a.gpu_layers));
        runtimes::PreloadOptions o = reload_options(a.runtime);
        o.num_gpu = static_cast<int>(a.gpu_layers);
        return c.preload(a.model, o);
      }
      case ActionKind::kResizeContext: {
        if (!c.capabilities().reload)
          return unsupported(a, "-c " + std::to_string(a.context_length));
        runtimes::PreloadOptions o = reload_options(a.runtime);
        // Ollama's num_ctx is per sequence; the action's context is the total.
        const uint32_t slots = a.parallel_slots ? a.parallel_slots : 1;
        o.num_ctx = static_cast<int>(a.context_length / slots);
        return c.preload(a.model, o);
      }
    }
    return make_error("unknown action");
  }

  Status preload(const std::string& runtime, const std::string& endpoint, const std::string& model,
                 const std::string& keep_alive) override {
    auto client = client_for(runtime, endpoint);
    if (!client) return client.error();
    runtimes::PreloadOptions o;
    o.keep_alive = keep_alive;
    return (*client)->preload(model, o);
  }

  void set_profile(const policy::Profile& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    profile_ = p;
  }

  void set_keys(std::map<std::string, std::string> keys) override {
    std::lock_guard<std::mutex> lock(mu_);
    keys_ = std::move(keys);
  }

 private:
  // What the active profile asks of a reload through this runtime's API.
  runtimes::PreloadOptions reload_options(const std::string& runtime) const {
    runtimes::PreloadOptions o;
    std::lock_guard<std::mutex> lock(mu_);
    if (!profile_) return o;
    const auto s = policy::runtime_settings(*profile_, runtime);
    if (s.api_options.contains("numa") && s.api_options["numa"].is_boolean()) {
      o.numa = s.api_options["numa"].get<bool>();
    }
    return o;
  }

  mutable std::mutex mu_;
  std::optional<policy::Profile> profile_;
  std::map<std::string, std::string> keys_;  // endpoint base URL -> bearer token

  Result<std::unique_ptr<runtimes::RuntimeClient>> client_for(const std::string& runtime,
                                                              const std::string& endpoint) const {
    auto kind = runtimes::runtime_from_name(runtime);
    if (!kind) return make_error("no client for runtime '" + runtime + "'");
    auto base = runtimes::parse_base_url(endpoint, runtimes::default_port(*kind));
    if (!base) return base.error();
    runtimes::HttpOptions o;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto k = keys_.find(base->str()); k != keys_.end()) o.bearer_token = k->second;
    }
    return runtimes::make_client(*kind, *base, o);
  }

  static Error unsupported(const policy::Action& a, const std::string& flag) {
    return make_error(a.runtime +
                      " cannot reload a model with new settings through its API; restart " +
                      a.model + " with " + flag);
  }
};

}  // namespace

std::unique_ptr<Actuator> make_runtime_actuator() { return std::make_unique<RuntimeActuator>(); }

}  // namespace memopt::actuator
