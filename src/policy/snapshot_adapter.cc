#include "policy/snapshot_adapter.h"

#include <algorithm>
#include <cmath>

#include "runtimes/http.h"

namespace memopt::policy {
namespace {

// A model served by a backend the serve gateway started (its loopback port
// is the backend port the gateway reports): the gateway owns its lifecycle
// (evicts by memory, restarts it), so the daemon must not unload or reload
// it behind the gateway's back.
bool managed_by_gateway(const runtimes::LoadedModel& m, const snapshot::Snapshot& s) {
  if (!s.gateway || !s.gateway->reachable || m.endpoint.empty()) return false;
  auto base = runtimes::parse_base_url(m.endpoint, 0);
  if (!base || (base->host != "127.0.0.1" && base->host != "localhost" && base->host != "::1")) {
    return false;
  }
  for (const auto& g : s.gateway->models) {
    if (g.pid > 0 && g.port > 0 && g.port == base->port) return true;
  }
  return false;
}

// The GPU holding a model: the one where the workload serving its endpoint
// holds the most VRAM; with a single GPU, that GPU.
int gpu_of(const runtimes::LoadedModel& m, const snapshot::Snapshot& s, size_t gpu_count) {
  if (m.vram_bytes.value_or(0) == 0) return -1;
  uint64_t best = 0;
  int index = -1;
  for (const auto& w : s.workloads) {
    if (w.endpoint.empty() || w.endpoint != m.endpoint) continue;
    for (const auto& share : w.vram) {
      if (share.used_bytes > best) {
        best = share.used_bytes;
        index = static_cast<int>(share.gpu_index);
      }
    }
  }
  if (index < 0 && gpu_count == 1) index = 0;
  return index;
}

uint32_t clamp32(uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX)); }

uint64_t vram_on(const snapshot::Workload& w, int gpu) {
  for (const auto& share : w.vram) {
    if (static_cast<int>(share.gpu_index) == gpu) return share.used_bytes;
  }
  return 0;
}

const snapshot::Workload* workload_at(const snapshot::Snapshot& s, const std::string& endpoint,
                                      int64_t pid) {
  for (const auto& w : s.workloads) {
    if (!endpoint.empty() && w.endpoint == endpoint) return &w;
    if (pid > 0 && std::find(w.pids.begin(), w.pids.end(), pid) != w.pids.end()) return &w;
  }
  return nullptr;
}

// VRAM a loading model already holds: its workload's (server and runners,
// as the GPU backend attributes them) less what the runtime's loaded models
// there hold. The runtime's own figure for a loading model is its plan
// (Ollama's size_vram), not what is resident.
uint64_t loading_resident(const snapshot::Snapshot& s, const snapshot::Workload& w, int gpu) {
  uint64_t others = 0;
  for (const auto& m : s.loaded_models) {
    if (m.endpoint == w.endpoint && m.state == "loaded") others += m.vram_bytes.value_or(0);
  }
  const uint64_t all = vram_on(w, gpu);
  return all > others ? all - others : 0;
}

bool model_loaded_at(const snapshot::Snapshot& s, const std::string& endpoint,
                     const std::string& model) {
  for (const auto& m : s.loaded_models) {
    if (m.endpoint == endpoint && m.name == model && m.state == "loaded") return true;
  }
  return false;
}

bool serves_loaded_models(const snapshot::Snapshot& s, const snapshot::Workload& w) {
  if (w.endpoint.empty()) return false;
  for (const auto& m : s.loaded_models) {
    if (m.endpoint == w.endpoint && m.state == "loaded") return true;
  }
  return false;
}

bool any_model_loaded_at(const snapshot::Snapshot& s, const std::string& endpoint) {
  for (const auto& m : s.loaded_models) {
    if (m.endpoint == endpoint && m.state == "loaded") return true;
  }
  return false;
}

// A model the gateway admitted and is starting (state "loading": from its
// admission, while it evicts others first, until its backend answers): its
// planned footprint on each GPU of the gateway's budget, less what its
// backend (by pid) already holds there, so nothing is counted twice. Once
// ready the model is not announced: the GPU's counter shows it.
void add_gateway_loads(const snapshot::Snapshot& s, PolicyInput& in) {
  if (!s.gateway || !s.gateway->reachable) return;
  const auto& devices = s.gateway->devices;
  for (const auto& gm : s.gateway->models) {
    if (gm.state != "loading") continue;
    const std::string endpoint =
        gm.port > 0 ? "http://127.0.0.1:" + std::to_string(gm.port) : std::string();
    if (!endpoint.empty() && any_model_loaded_at(s, endpoint)) continue;  // ready already
    const snapshot::Workload* w = gm.pid > 0 ? workload_at(s, "", gm.pid) : nullptr;
    for (size_t i = 0; i < devices.size() && i < gm.planned_bytes.size(); ++i) {
      const int gpu = devices[i].gpu;
      const bool known_gpu = std::any_of(in.gpus.begin(), in.gpus.end(),
                                         [&](const GpuState& g) { return g.index == gpu; });
      if (gpu < 0 || !known_gpu || gm.planned_bytes[i] == 0) continue;
      AnnouncedLoad a;
      a.source = "gateway";
      // A `command` model's backend is a llama.cpp server (what the planner planned).
      a.runtime = w && !w->runtime.empty()
                      ? w->runtime
                      : std::string(runtimes::runtime_name(runtimes::RuntimeKind::kLlamaCpp));
      a.model = gm.name;
      a.endpoint = endpoint;
      a.pid = gm.pid;
      a.gpu = gpu;
      a.bytes = gm.planned_bytes[i];
      a.resident_bytes = w ? vram_on(*w, gpu) : 0;
      a.announced_at_seconds = in.now_seconds;
      in.announced.push_back(std::move(a));
    }
  }
}

// The three sources of a load's size before it lands (policy_input.h).
void add_announced(const snapshot::Snapshot& s, const DaemonKnowledge& k, PolicyInput& in) {
  // (b) The gateway's admissions: from its /serve/state in the Snapshot,
  // then any the daemon was told of otherwise, until the runtime reports
  // the model loaded.
  add_gateway_loads(s, in);
  // Those are one backend each; what the daemon was told is checked
  // against them only (two loads on one Ollama endpoint are two loads).
  const auto from_state = static_cast<std::ptrdiff_t>(in.announced.size());
  for (AnnouncedLoad a : k.gateway) {
    const auto first = in.announced.begin();
    const bool announced = std::any_of(first, first + from_state, [&](auto& b) {
      return b.gpu == a.gpu && ((a.pid > 0 && a.pid == b.pid) ||
                                (!a.endpoint.empty() && a.endpoint == b.endpoint));
    });
    if (announced) continue;
    if (!a.endpoint.empty() && model_loaded_at(s, a.endpoint, a.model)) continue;
    a.source = "gateway";
    if (const auto* w = workload_at(s, a.endpoint, a.pid))
      a.resident_bytes = loading_resident(s, *w, a.gpu);
    in.announced.push_back(std::move(a));
  }
  // (a) The planner's estimate for a model its runtime reports loading.
  for (const auto& m : s.loaded_models) {
    if (m.state != "loading") continue;
    const bool announced = std::any_of(in.announced.begin(), in.announced.end(), [&](auto& a) {
      return a.endpoint == m.endpoint && a.model == m.name;
    });
    if (announced) continue;  // the gateway's admission is the same estimate
    for (AnnouncedLoad a : k.planned) {
      if (a.endpoint != m.endpoint || a.model != m.name || a.bytes == 0) continue;
      a.source = "planner";
      const snapshot::Workload* w = workload_at(s, m.endpoint, 0);
      a.resident_bytes = w ? loading_resident(s, *w, a.gpu) : 0;
      if (w) a.pid = w->pid;
      in.announced.push_back(std::move(a));
      break;
    }
  }
  // ... and for a single-model server (llama-server) that has started on
  // the GPU but answers nothing while it loads: the assembler's estimate of
  // its model at its command line's context and parallel.
  for (const auto& w : s.workloads) {
    if (!w.estimate || w.estimate->total_bytes == 0 || w.vram.empty()) continue;
    if (serves_loaded_models(s, w)) continue;
    const bool announced = std::any_of(in.announced.begin(), in.announced.end(), [&](auto& a) {
      return (a.pid > 0 && a.pid == w.pid) || (!a.endpoint.empty() && a.endpoint == w.endpoint);
    });
    if (announced) continue;
    int gpu = static_cast<int>(w.vram.front().gpu_index);
    for (const auto& share : w.vram) {
      if (share.used_bytes > vram_on(w, gpu)) gpu = static_cast<int>(share.gpu_index);
    }
    AnnouncedLoad a;
    a.source = "planner";
    a.runtime = w.runtime;
    a.model = w.model;
    a.endpoint = w.endpoint;
    a.pid = w.pid;
    a.gpu = gpu;
    a.bytes = w.estimate->total_bytes;
    a.resident_bytes = vram_on(w, gpu);
    a.announced_at_seconds = in.now_seconds;
    in.announced.push_back(std::move(a));
  }
  // (c) A program whose earlier runs were learned: its peak is known from
  // its start. Not for a server whose runtime reports its models (the
  // planner knows those better), nor for one announced already.
  for (const auto& w : s.workloads) {
    if (serves_loaded_models(s, w)) continue;
    const bool announced = std::any_of(in.announced.begin(), in.announced.end(), [&](auto& a) {
      return (a.pid > 0 && a.pid == w.pid) || (!a.endpoint.empty() && a.endpoint == w.endpoint);
    });
    if (announced) continue;
    const WorkloadSignature sig = signature_of(w);
    for (const auto& g : in.gpus) {
      const WorkloadProfile* p = match_profile(k.profiles, sig, g.index, k.profile_max_distance);
      if (!p) continue;
      AnnouncedLoad a;
      a.source = "profile";
      a.runtime = w.runtime;
      a.model = sig.text();
      a.endpoint = w.endpoint;
      a.pid = w.pid;
      a.gpu = g.index;
      a.bytes = p->expected_peak_bytes();
      a.resident_bytes = vram_on(w, g.index);
      a.runs = p->runs;
      a.announced_at_seconds = in.now_seconds;
      in.announced.push_back(std::move(a));
    }
  }
}

}  // namespace

PolicyInput to_policy_input(const snapshot::Snapshot& s, double now_seconds) {
  return to_policy_input(s, now_seconds, DaemonKnowledge{});
}

PolicyInput to_policy_input(const snapshot::Snapshot& s, double now_seconds,
                            const DaemonKnowledge& knowledge) {
  PolicyInput in;
  in.now_seconds = now_seconds;
  in.host.total_bytes = s.host.meminfo.total_bytes;
  in.host.available_bytes = s.host.meminfo.available_bytes;
  for (const auto& g : s.gpus) {
    if (!g.memory_total_bytes || !g.memory_used_bytes) continue;  // nothing to plan with
    GpuState st;
    st.index = static_cast<int>(g.index);
    st.name = g.name;
    st.total_bytes = *g.memory_total_bytes;
    st.used_bytes = *g.memory_used_bytes;
    if (g.throttle && (g.throttle->thermal || g.throttle->power)) {
      st.throttling = true;
      st.throttle_reason = g.throttle->thermal ? "thermal" : "power";
    }
    in.gpus.push_back(st);
  }
  for (const auto& m : s.loaded_models) {
    ModelState ms;
    ms.runtime = std::string(runtimes::runtime_name(m.runtime));
    ms.name = m.name;
    ms.endpoint = m.endpoint;
    ms.size_bytes = m.size_bytes.value_or(0);
    ms.vram_bytes = m.vram_bytes.value_or(0);
    ms.parallel_slots = clamp32(std::max<uint64_t>(m.parallel.value_or(1), 1));
    // The engine reasons about the whole allocated context: every slot's.
    ms.context_length = clamp32(m.context_tokens.value_or(0) * ms.parallel_slots);
    ms.gpu = gpu_of(m, s, in.gpus.size());
    ms.idle_seconds = m.idle_seconds.value_or(0);
    ms.busy = m.requests_running.value_or(0) > 0;
    // keep_alive -1 shows as an expiry centuries away.
    ms.pinned = m.expires_at.size() >= 4 && m.expires_at.substr(0, 4) > "2200";
    ms.pinned = ms.pinned || managed_by_gateway(m, s);
    ms.n_layers = m.n_layers;
    ms.kv_capacity_bytes = m.kv.capacity_bytes.value.value_or(0);
    ms.kv_used_bytes = m.kv.used_bytes.value.value_or(0);
    if (ms.kv_capacity_bytes > 0 && ms.kv_used_bytes == 0 && m.kv.usage_ratio.known()) {
      ms.kv_used_bytes = static_cast<uint64_t>(*m.kv.usage_ratio.value *
                                               static_cast<double>(ms.kv_capacity_bytes));
    }
    ms.kv_peak_bytes = std::max(m.kv_peak_bytes, ms.kv_used_bytes);
    if (ms.n_layers > 0 && ms.size_bytes > 0) {
      // Layers on the GPU in proportion to the bytes there: llama.cpp
      // offloads whole layers of near-equal size, so the VRAM share is the
      // layer share (Ollama's PROCESSOR column is computed the same way).
      const double share = static_cast<double>(ms.vram_bytes) / static_cast<double>(ms.size_bytes);
      ms.gpu_layers = static_cast<uint32_t>(std::lround(share * ms.n_layers));
      const uint64_t weights =
          ms.size_bytes > ms.kv_capacity_bytes ? ms.size_bytes - ms.kv_capacity_bytes : 0;
      ms.gpu_layer_bytes = weights / ms.n_layers;
    }
    in.models.push_back(ms);
  }
  add_announced(s, knowledge, in);
  in.delays = knowledge.delays;
  return in;
}

}  // namespace memopt::policy
