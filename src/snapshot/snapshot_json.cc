// JSON form of the Snapshot (docs/json/status.md). Bytes stay integers.
#include "detect/snapshot.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace memopt::detect {

nlohmann::json to_json(const Workload& w) {
  nlohmann::json j;
  j["runtime"] = w.runtime;
  j["runtime_name"] = w.runtime_name;
  if (!w.flavor.empty()) j["flavor"] = w.flavor;
  j["accelerators"] = w.accelerators;
  j["also"] = w.also;
  j["pid"] = w.pid;
  j["pids"] = w.pids;
  j["command"] = w.command;
  j["uid"] = w.uid;
  j["container_id"] = w.container_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.container_id);
  j["confidence"] = w.confidence;
  nlohmann::json ev = nlohmann::json::array();
  for (const auto& e : w.evidence) {
    ev.push_back({{"pid", e.pid}, {"signal", e.signal}, {"detail", e.detail}, {"confidence", e.confidence}});
  }
  j["evidence"] = ev;
  j["endpoint"] = w.endpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.endpoint);
  j["endpoint_confirmed"] = w.endpoint_confirmed;
  j["model"] = w.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.model);
  j["model_files"] = w.model_files;
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : w.models) {
    nlohmann::json mj{{"path", m.path},
                      {"file_bytes", m.file_bytes},
                      {"architecture", m.architecture},
                      {"name", m.name},
                      {"file_type", m.file_type_name},
                      {"parameter_count", m.parameter_count},
                      {"weight_bytes", m.weight_bytes},
                      {"context_length", m.context_length},
                      {"block_count", m.block_count}};
    if (!m.error.empty()) mj["error"] = m.error;
    models.push_back(mj);
  }
  j["models"] = models;
  j["context_tokens"] = w.context_tokens;
  if (w.estimate) {
    j["estimate"] = {{"context_tokens", w.estimate->context_tokens},
                     {"weights_bytes", w.estimate->weights_bytes},
                     {"kv_cache_bytes", w.estimate->kv_cache_bytes},
                     {"total_bytes", w.estimate->total_bytes}};
  } else {
    j["estimate"] = nullptr;
  }
  j["rss_bytes"] = w.rss_bytes;
  j["swap_bytes"] = w.swap_bytes;
  nlohmann::json vram = nlohmann::json::array();
  for (const auto& v : w.vram) vram.push_back({{"gpu", v.gpu_index}, {"used_bytes", v.used_bytes}});
  j["vram"] = vram;
  j["vram_bytes"] = w.vram_bytes;
  if (!w.note.empty()) j["note"] = w.note;
  return j;
}

nlohmann::json Snapshot::to_json() const {
  nlohmann::json j;
  j["taken_at_unix_ms"] = taken_at_unix_ms;
  j["host"] = {{"total_bytes", host.total_bytes},
               {"available_bytes", host.available_bytes},
               {"used_bytes", host.total_bytes - std::min(host.total_bytes, host.available_bytes)},
               {"swap_total_bytes", host.swap_total_bytes},
               {"swap_free_bytes", host.swap_free_bytes}};
  nlohmann::json g = nlohmann::json::array();
  for (const auto& d : gpus) {
    g.push_back({{"index", d.index},
                 {"name", d.name},
                 {"vendor", d.vendor},
                 {"total_bytes", d.total_bytes},
                 {"used_bytes", d.used_bytes}});
  }
  j["gpus"] = g;
  j["gpu_backend"] = gpu_backend;
  j["gpu_error"] = gpu_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(gpu_error);
  nlohmann::json ws = nlohmann::json::array();
  for (const auto& w : workloads) ws.push_back(detect::to_json(w));
  j["workloads"] = ws;
  nlohmann::json lm = nlohmann::json::array();
  for (const auto& m : loaded_models) {
    nlohmann::json mj{{"runtime", m.runtime},           {"name", m.name},
                      {"endpoint", m.endpoint},         {"size_bytes", m.size_bytes},
                      {"vram_bytes", m.vram_bytes},     {"context_length", m.context_length}};
    mj["kv_cache_usage"] = m.kv_cache_usage ? nlohmann::json(*m.kv_cache_usage) : nlohmann::json(nullptr);
    mj["kv_cache_bytes"] = m.kv_cache_bytes ? nlohmann::json(*m.kv_cache_bytes) : nlohmann::json(nullptr);
    mj["kv_estimated"] = m.kv_estimated;
    lm.push_back(mj);
  }
  j["loaded_models"] = lm;
  j["scan"] = {{"processes", scan.processes},
               {"denied_processes", scan.denied_processes},
               {"vanished_processes", scan.vanished_processes},
               {"as_root", scan.as_root}};
  j["profile"] = profile.empty() ? nlohmann::json(nullptr) : nlohmann::json(profile);
  nlohmann::json wa = nlohmann::json::array();
  for (const auto& w : warnings) {
    wa.push_back({{"severity", w.severity}, {"message", w.message}, {"action", w.action}});
  }
  j["warnings"] = wa;
  j["unsupported"] = unsupported;
  return j;
}

}  // namespace memopt::detect
