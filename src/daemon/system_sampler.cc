#include "daemon/system_sampler.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <set>

#include "detect/workload_detector.h"
#include "gpu/collect.h"
#include "gpu/status_telemetry.h"
#include "gpu/host_memory.h"
#include "policy/snapshot_adapter.h"
#include "runtimes/ollama.h"
#include "runtimes/runtime.h"

namespace memopt::daemon {
namespace {

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the daemon remembers about a loaded model between samples.
struct ModelTrack {
  std::string expires_at;
  double last_active = 0;
  uint64_t kv_peak = 0;
  bool layers_asked = false;
  uint32_t n_layers = 0;
};

class SystemSampler : public Sampler {
 public:
  explicit SystemSampler(const SamplerOptions& o) : o_(o), gpus_(gpu::GpuRoots{o.proc_root, o.sys_root, o.nvml_library}) {
    const char* env = std::getenv("OLLAMA_HOST");
    auto base = runtimes::parse_ollama_host(env ? env : "");
    if (base) fixed_.push_back({runtimes::RuntimeKind::kOllama, *base});
    for (const auto& e : o.endpoints) {
      const auto eq = e.find('=');
      if (eq == std::string::npos) continue;
      auto kind = runtimes::runtime_from_name(e.substr(0, eq));
      if (!kind) continue;
      auto b = runtimes::parse_base_url(e.substr(eq + 1), runtimes::default_port(*kind));
      if (b) fixed_.push_back({*kind, *b});
    }
  }

  Sample sample(double now) override {
    Sample s;
    s.unix_ms = unix_ms_now();
    run(s, "gpu", [&] { gpu_snapshot_ = gpus_.sample(); });
    run(s, "host", [&] {
      auto h = gpu::read_host_memory(o_.proc_root, o_.sys_root);
      if (!h) throw std::runtime_error(h.error().message);
      host_ = *h;
    });
    if (!have_snapshot_ || now - last_detect_ >= o_.detect_interval_seconds) {
      last_detect_ = now;
      run(s, "detect", [&] {
        detect::DetectorOptions d;
        d.proc_root = o_.proc_root;
        d.probe_ports = o_.probe_ports;
        d.read_gpus = [this] { return gpu_reading(); };
        auto snap = detect::AIWorkloadDetector(std::move(d)).snapshot();
        if (!snap) throw std::runtime_error(snap.error().message);
        snapshot_ = std::move(*snap);
        have_snapshot_ = true;
      });
    }
    std::vector<detect::LoadedModel> loaded;
    run(s, "runtimes", [&] { loaded = poll_runtimes(now, s); });

    // The status document: the last full scan with this tick's memory
    // figures and models.
    detect::Snapshot view = snapshot_;
    view.taken_at_unix_ms = static_cast<uint64_t>(s.unix_ms);
    view.host = {host_.meminfo.total_bytes, host_.meminfo.available_bytes, host_.meminfo.swap_total_bytes,
                 host_.meminfo.swap_free_bytes};
    view.gpus.clear();
    for (const auto& g : gpu_snapshot_.gpus) {
      view.gpus.push_back({g.index, g.name, gpu::vendor_name(g.vendor), g.memory_total_bytes.value_or(0),
                           g.memory_used_bytes.value_or(0)});
    }
    view.loaded_models = loaded;
    s.status = view.to_json();
    gpu::add_gpu_telemetry(s.status, gpu_snapshot_.gpus);
    s.input = policy::to_policy_input(view, gpu_snapshot_.gpus, now, extras_);
    for (const auto& g : gpu_snapshot_.gpus) {
      s.telemetry[static_cast<int>(g.index)] = {g.temperature_c, g.power_draw_watts};
    }
    for (const auto& w : snapshot_.workloads) {
      if (w.is_ai()) s.workloads.push_back({w.runtime, w.model, w.pid, w.vram_bytes, w.rss_bytes});
    }
    return s;
  }

 private:
  struct Endpoint {
    runtimes::RuntimeKind kind;
    runtimes::BaseUrl base;
  };

  static void run(Sample& s, const char* name, const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      s.errors.push_back({name, e.what()});
    } catch (...) {
      s.errors.push_back({name, "unknown failure"});
    }
  }

  detect::GpuReading gpu_reading() const {
    detect::GpuReading r;
    r.backend = gpu_snapshot_.gpus.empty() ? "none" : gpu_snapshot_.gpus.front().backend;
    for (const auto& n : gpu_snapshot_.notes) {
      if (n.warning) r.error += (r.error.empty() ? "" : "; ") + n.message;
    }
    for (const auto& g : gpu_snapshot_.gpus) {
      r.devices.push_back({g.index, g.name, gpu::vendor_name(g.vendor), g.memory_total_bytes.value_or(0),
                           g.memory_used_bytes.value_or(0)});
      for (const auto& [pid, bytes] : gpu::process_memory(g)) {
        r.processes.push_back({static_cast<int>(pid), g.index, bytes});
      }
    }
    return r;
  }

  std::vector<detect::LoadedModel> poll_runtimes(double now, Sample& s) {
    std::vector<Endpoint> eps = fixed_;
    std::set<std::string> seen;
    for (const auto& e : eps) seen.insert(e.base.str());
    for (const auto& w : snapshot_.workloads) {
      auto kind = runtimes::runtime_from_name(w.runtime);
      if (!kind || w.endpoint.empty() || !w.endpoint_confirmed) continue;
      auto b = runtimes::parse_base_url(w.endpoint, runtimes::default_port(*kind));
      if (b && seen.insert(b->str()).second) eps.push_back({*kind, *b});
    }
    std::vector<detect::LoadedModel> out;
    std::set<std::string> present;
    for (const auto& ep : eps) {
      auto client = runtimes::make_client(ep.kind, ep.base);
      auto models = client->loaded_models();
      if (!models) {
        // The default Ollama address answering nothing means no Ollama; a
        // runtime the detector saw listening and now failing is an error.
        const bool fixed = std::any_of(fixed_.begin(), fixed_.end(),
                                       [&](const Endpoint& f) { return f.base.str() == ep.base.str(); });
        if (!fixed) s.errors.push_back({"runtimes", models.error().message});
        continue;
      }
      for (const auto& m : *models) {
        if (m.state != "loaded" && m.state != "loading") continue;
        detect::LoadedModel d;
        d.runtime = std::string(runtimes::runtime_name(m.runtime));
        d.name = m.name;
        d.endpoint = m.endpoint;
        d.size_bytes = m.size_bytes.value_or(0);
        d.vram_bytes = m.vram_bytes.value_or(0);
        d.context_length = m.context_tokens.value_or(0) * m.parallel.value_or(1);
        if (m.kv.usage_ratio.known()) d.kv_cache_usage = *m.kv.usage_ratio.value;
        out.push_back(d);
        track(now, m, d, *client);
        present.insert(d.runtime + "/" + d.name);
      }
    }
    for (auto it = tracks_.begin(); it != tracks_.end();) {
      if (!present.count(it->first)) {
        extras_.erase(it->first);
        it = tracks_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  void track(double now, const runtimes::LoadedModel& m, const detect::LoadedModel& d,
             const runtimes::RuntimeClient& client) {
    const std::string key = d.runtime + "/" + d.name;
    auto [it, fresh] = tracks_.try_emplace(key);
    ModelTrack& t = it->second;
    const bool busy = m.requests_running.value_or(0) > 0;
    // Ollama moves expires_at forward on every request: a change is use.
    if (fresh || busy || (!m.expires_at.empty() && m.expires_at != t.expires_at)) t.last_active = now;
    t.expires_at = m.expires_at;
    if (!t.layers_asked && m.runtime == runtimes::RuntimeKind::kOllama) {
      t.layers_asked = true;
      auto details = static_cast<const runtimes::OllamaClient&>(client).show(d.name);
      // llama.cpp offloads block_count repeating layers plus the output layer.
      if (details && details->block_count) t.n_layers = static_cast<uint32_t>(*details->block_count + 1);
    }
    policy::ModelExtras& x = extras_[key];
    x.idle_seconds = now - t.last_active;
    x.busy = busy;
    // keep_alive -1 shows as an expiry centuries away.
    x.pinned = m.expires_at.size() >= 4 && m.expires_at.substr(0, 4) > "2200";
    x.n_layers = t.n_layers;
    x.parallel_slots = static_cast<uint32_t>(m.parallel.value_or(1));
    x.kv_capacity_bytes = m.kv.capacity_bytes.value.value_or(0);
    x.kv_used_bytes = m.kv.used_bytes.value.value_or(0);
    t.kv_peak = std::max(t.kv_peak, x.kv_used_bytes);
    x.kv_peak_bytes = t.kv_peak;
  }

  SamplerOptions o_;
  gpu::GpuCollector gpus_;
  gpu::GpuSnapshot gpu_snapshot_;
  gpu::HostMemory host_;
  detect::Snapshot snapshot_;
  bool have_snapshot_ = false;
  double last_detect_ = 0;
  std::vector<Endpoint> fixed_;
  std::map<std::string, ModelTrack> tracks_;
  std::map<std::string, policy::ModelExtras> extras_;
};

}  // namespace

std::unique_ptr<Sampler> make_system_sampler(const SamplerOptions& options) {
  return std::make_unique<SystemSampler>(options);
}

}  // namespace memopt::daemon
