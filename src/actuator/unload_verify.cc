#include "actuator/unload_verify.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "gpu/collect.h"
#include "util/bytes.h"

namespace memopt::actuator {

using namespace memopt::runtimes;
using Clock = std::chrono::steady_clock;

std::optional<uint64_t> gpu_used_bytes(const gpu::GpuRoots& roots) {
  gpu::GpuSnapshot snap = gpu::collect_gpus(roots);
  std::optional<uint64_t> total;
  for (const gpu::GpuDevice& g : snap.gpus) {
    if (g.integrated) continue;  // its "VRAM" is host RAM shared with everything
    if (g.memory_used_bytes) total = total.value_or(0) + *g.memory_used_bytes;
  }
  return total;
}

namespace {

// Listed and still holding memory? A sleeping vLLM engine or llama.cpp router
// child has given its memory back while staying listed.
Result<bool> still_loaded(const RuntimeClient& c, const std::string& name) {
  auto models = c.loaded_models();
  if (!models) return models.error();
  for (const LoadedModel& m : *models) {
    if (m.name == name) return m.state != "sleeping" && m.state != "unloaded";
  }
  return false;
}

}  // namespace

UnloadReport unload_and_verify(const RuntimeClient& client, const LoadedModel& model,
                               const VerifyOptions& o) {
  UnloadReport r;
  r.runtime = std::string(client.name());
  r.endpoint = client.base_url();
  r.model = model.name;
  r.held_bytes = model.size_bytes;
  r.held_vram_bytes = model.vram_bytes;
  r.gpu_used_before_bytes = gpu_used_bytes(o.gpu_roots);
  const auto start = Clock::now();
  const auto deadline = start + o.timeout;
  Status s = client.unload(model.name);
  if (!s) {
    r.error = s.error().message;
    return r;
  }
  r.accepted = true;
  // Ollama answers at once and unloads when in-flight requests end; poll.
  std::string last_error;
  for (;;) {
    auto loaded = still_loaded(client, model.name);
    if (loaded && !*loaded) {
      r.gone = true;
      break;
    }
    if (!loaded) last_error = loaded.error().message;
    if (Clock::now() + o.poll > deadline) break;
    std::this_thread::sleep_for(o.poll);
  }
  if (!r.gone) {
    r.error = "asked to unload, but " + r.runtime + " still lists '" + model.name + "' after " +
              std::to_string(o.timeout.count() / 1000) + " s" +
              (last_error.empty() ? " (requests still running?)" : " (" + last_error + ")");
  }
  // The GPU side: wait for the driver to show the memory back, when we know
  // how much to expect and can see the GPUs.
  if (r.gone && r.gpu_used_before_bytes && r.held_vram_bytes && *r.held_vram_bytes > 0) {
    for (;;) {
      r.gpu_used_after_bytes = gpu_used_bytes(o.gpu_roots);
      if (r.gpu_used_after_bytes &&
          *r.gpu_used_after_bytes + *r.held_vram_bytes / 2 <= *r.gpu_used_before_bytes) {
        r.gpu_memory_returned = true;
        break;
      }
      if (Clock::now() + o.poll > deadline) break;
      std::this_thread::sleep_for(o.poll);
    }
  } else if (r.gpu_used_before_bytes) {
    r.gpu_used_after_bytes = gpu_used_bytes(o.gpu_roots);
  }
  r.waited_s = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

void print_unload_report(std::ostream& out, const UnloadReport& r) {
  if (!r.accepted) {
    out << "Could not unload " << r.model << " (" << r.runtime << ", " << r.endpoint << "):\n  "
        << r.error << "\n";
    return;
  }
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f s", r.waited_s);
  if (r.gone) {
    out << "Unloaded " << r.model << " from " << r.runtime << " (" << r.endpoint << ") in " << secs
        << ".\n";
    out << "  runtime: no longer loaded";
    if (r.held_bytes) out << "; it held " << format_bytes(*r.held_bytes);
    if (r.held_vram_bytes) out << ", " << format_bytes(*r.held_vram_bytes) << " on GPU";
    out << "\n";
  } else {
    out << "NOT unloaded: " << r.error << "\n";
  }
  if (r.gpu_used_before_bytes && r.gpu_used_after_bytes) {
    uint64_t b = *r.gpu_used_before_bytes, a = *r.gpu_used_after_bytes;
    out << "  GPU memory used: " << format_bytes(b) << " -> " << format_bytes(a);
    if (a < b) out << " (" << format_bytes(b - a) << " freed)";
    out << "\n";
    if (r.gone && r.held_vram_bytes && *r.held_vram_bytes > 0 && !r.gpu_memory_returned) {
      out << "  warning: the runtime says the model is unloaded, but the GPUs did not get\n"
             "  its memory back; the process may keep its allocation (restart it to free it).\n";
    }
  } else {
    out << "  GPU memory: no GPU reports usage here; verified through the runtime only.\n";
  }
}

nlohmann::json unload_report_json(const UnloadReport& r) {
  auto opt = [](const std::optional<uint64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"runtime", r.runtime},
          {"endpoint", r.endpoint},
          {"model", r.model},
          {"accepted", r.accepted},
          {"unloaded", r.gone},
          {"held_bytes", opt(r.held_bytes)},
          {"held_vram_bytes", opt(r.held_vram_bytes)},
          {"gpu_used_before_bytes", opt(r.gpu_used_before_bytes)},
          {"gpu_used_after_bytes", opt(r.gpu_used_after_bytes)},
          {"gpu_memory_returned", r.gpu_memory_returned},
          {"waited_s", r.waited_s},
          {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}};
}

}  // namespace memopt::actuator
