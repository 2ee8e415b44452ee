#include "daemon/metrics.h"

#include <cmath>
#include <sstream>

namespace memopt::daemon {
namespace {

// Writes a metric family: HELP and TYPE once, then its samples.
class Family {
 public:
  Family(std::ostringstream& os, const char* name, const char* type, const char* help) : os_(os), name_(name) {
    os_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  Family& add(const std::string& labels, double value) {
    os_ << name_;
    if (!labels.empty()) os_ << "{" << labels << "}";
    os_ << " ";
    if (std::isnan(value)) {
      os_ << "NaN";
    } else if (std::isinf(value)) {
      os_ << (value > 0 ? "+Inf" : "-Inf");
    } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
      os_ << static_cast<int64_t>(value);
    } else {
      os_ << value;
    }
    os_ << "\n";
    return *this;
  }

 private:
  std::ostringstream& os_;
  const char* name_;
};

std::string label(const char* k, const std::string& v) { return std::string(k) + "=\"" + escape_label_value(v) + "\""; }

std::string gpu_label(int index) { return label("gpu", std::to_string(index)); }

std::string model_labels(const policy::ModelState& m) {
  return label("runtime", m.runtime) + "," + label("model", m.name);
}

}  // namespace

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_metrics(const MetricsView& v) {
  std::ostringstream os;
  os.precision(17);
  const auto& in = v.sample.input;
  {
    Family f(os, "ruvector_gpu_memory_used_bytes", "gauge", "GPU memory in use.");
    for (const auto& g : in.gpus) f.add(gpu_label(g.index) + "," + label("name", g.name), static_cast<double>(g.used_bytes));
  }
  {
    Family f(os, "ruvector_gpu_memory_total_bytes", "gauge", "GPU memory size.");
    for (const auto& g : in.gpus) f.add(gpu_label(g.index) + "," + label("name", g.name), static_cast<double>(g.total_bytes));
  }
  {
    Family f(os, "ruvector_gpu_temperature_celsius", "gauge", "GPU temperature.");
    for (const auto& g : v.sample.snapshot.gpus) {
      if (g.temperature_c) f.add(gpu_label(static_cast<int>(g.index)), *g.temperature_c);
    }
  }
  {
    Family f(os, "ruvector_gpu_power_watts", "gauge", "GPU power draw.");
    for (const auto& g : v.sample.snapshot.gpus) {
      if (g.power_draw_watts) f.add(gpu_label(static_cast<int>(g.index)), *g.power_draw_watts);
    }
  }
  {
    Family f(os, "ruvector_gpu_throttling", "gauge", "1 when the GPU is throttling for temperature or power.");
    for (const auto& g : in.gpus) f.add(gpu_label(g.index), g.throttling ? 1 : 0);
  }
  {
    Family f(os, "ruvector_gpu_oom_forecast_seconds", "gauge",
             "Seconds until GPU memory runs out at the current growth rate (absent when not growing).");
    for (const auto& fc : v.forecasts) {
      if (std::isfinite(fc.seconds_to_oom) && fc.still_growing) f.add(gpu_label(fc.gpu), fc.seconds_to_oom);
    }
  }
  Family(os, "ruvector_host_memory_total_bytes", "gauge", "Host RAM size.").add("", static_cast<double>(in.host.total_bytes));
  Family(os, "ruvector_host_memory_available_bytes", "gauge", "Host RAM available without swapping (MemAvailable).")
      .add("", static_cast<double>(in.host.available_bytes));
  {
    Family f(os, "ruvector_workload_vram_bytes", "gauge", "GPU memory held by an AI workload (process group).");
    for (const auto& w : v.sample.snapshot.workloads) {
      if (!w.is_ai()) continue;
      f.add(label("runtime", w.runtime) + "," + label("model", w.model) + "," + label("pid", std::to_string(w.pid)),
            static_cast<double>(w.vram_bytes));
    }
  }
  {
    Family f(os, "ruvector_workload_ram_bytes", "gauge", "Resident host memory of an AI workload.");
    for (const auto& w : v.sample.snapshot.workloads) {
      if (!w.is_ai()) continue;
      f.add(label("runtime", w.runtime) + "," + label("model", w.model) + "," + label("pid", std::to_string(w.pid)),
            static_cast<double>(w.rss_bytes));
    }
  }
  {
    Family f(os, "ruvector_model_vram_bytes", "gauge", "GPU memory a loaded model holds.");
    for (const auto& m : in.models) f.add(model_labels(m), static_cast<double>(m.vram_bytes));
  }
  {
    Family f(os, "ruvector_model_ram_bytes", "gauge", "Host memory a loaded model holds (the part not on a GPU).");
    for (const auto& m : in.models) {
      f.add(model_labels(m), static_cast<double>(m.size_bytes > m.vram_bytes ? m.size_bytes - m.vram_bytes : 0));
    }
  }
  {
    Family f(os, "ruvector_model_gpu_share_ratio", "gauge", "Share of a loaded model on GPUs (1 = all, 0 = CPU only).");
    for (const auto& m : in.models) {
      if (m.size_bytes > 0) f.add(model_labels(m), static_cast<double>(m.vram_bytes) / static_cast<double>(m.size_bytes));
    }
  }
  {
    Family f(os, "ruvector_model_kv_cache_used_bytes", "gauge", "KV cache in use (where the runtime tells).");
    for (const auto& m : in.models) {
      if (m.kv_capacity_bytes > 0) f.add(model_labels(m), static_cast<double>(m.kv_used_bytes));
    }
  }
  {
    Family f(os, "ruvector_model_kv_cache_capacity_bytes", "gauge", "KV cache allocated for the model's context.");
    for (const auto& m : in.models) {
      if (m.kv_capacity_bytes > 0) f.add(model_labels(m), static_cast<double>(m.kv_capacity_bytes));
    }
  }
  {
    Family f(os, "ruvector_model_context_tokens", "gauge", "Context a loaded model holds per sequence.");
    for (const auto& m : v.sample.snapshot.loaded_models) {
      if (m.context_tokens) {
        f.add(label("runtime", std::string(runtimes::runtime_name(m.runtime))) + "," + label("model", m.name),
              static_cast<double>(*m.context_tokens));
      }
    }
  }
  {
    Family f(os, "ruvector_model_parallel_sequences", "gauge", "Sequences (slots) a loaded model serves at once.");
    for (const auto& m : v.sample.snapshot.loaded_models) {
      if (m.parallel) {
        f.add(label("runtime", std::string(runtimes::runtime_name(m.runtime))) + "," + label("model", m.name),
              static_cast<double>(*m.parallel));
      }
    }
  }
  {
    Family f(os, "ruvector_model_idle_seconds", "gauge", "Seconds since the model last served a request.");
    for (const auto& m : in.models) f.add(model_labels(m), m.idle_seconds);
  }
  {
    Family f(os, "ruvector_policy_actions_total", "counter", "Actions the policy decided, by kind.");
    for (const char* k : {"unload", "reload_fewer_layers", "resize_context", "restore_layers", "free_image_cache"}) {
      auto it = v.actions_total.find(k);
      f.add(label("kind", k), it == v.actions_total.end() ? 0 : static_cast<double>(it->second));
    }
  }
  Family(os, "ruvector_policy_profile_info", "gauge", "The active profile (value is always 1).")
      .add(label("profile", v.profile) + "," + label("mode", v.apply ? "apply" : "dry-run") + "," +
               label("policy", v.predictive ? "predictive" : "threshold"),
           1);
  {
    Family f(os, "ruvector_collector_errors_total", "counter", "Failed collector runs, by collector.");
    for (const auto& [c, n] : v.collector_errors_total) f.add(label("collector", c), static_cast<double>(n));
  }
  Family(os, "ruvector_daemon_samples_total", "counter", "Samples taken since the daemon started.")
      .add("", static_cast<double>(v.samples_total));
  Family(os, "ruvector_daemon_pass_seconds", "gauge", "Time the last sample and policy pass took.")
      .add("", v.last_pass_seconds);
  Family(os, "ruvector_daemon_sample_interval_seconds", "gauge",
         "Seconds until the next sample: the configured interval, or the fast one while an OOM may be near.")
      .add("", v.sample_interval_seconds);
  Family(os, "ruvector_actions_in_flight", "gauge", "Actions queued or running through a runtime's API.")
      .add("", static_cast<double>(v.actions_in_flight));
  Family(os, "ruvector_workload_profiles", "gauge",
         "Workload profiles learned from finished runs (program, model, arguments, GPU).")
      .add("", static_cast<double>(v.workload_profiles));
  Family(os, "ruvector_action_delays_measured_total", "counter",
         "Actions whose memory was seen given back (their delay is learned).")
      .add("", static_cast<double>(v.delays_measured_total));
  Family(os, "ruvector_action_delays_unobserved_total", "counter",
         "Actions whose memory was not seen given back within 600 s.")
      .add("", static_cast<double>(v.delays_unobserved_total));
  {
    Family f(os, "ruvector_action_delay_seconds", "gauge",
             "Learned time from an action's decision to its memory being free, by runtime, kind, "
             "model size class (lower bound, bytes) and quantile.");
    for (const auto& d : v.delays) {
      const std::string l = label("runtime", d.runtime) + "," + label("kind", d.kind) + "," +
                            label("size_min_bytes", std::to_string(d.size.min_bytes));
      f.add(l + "," + label("quantile", "0.5"), d.p50_seconds);
      f.add(l + "," + label("quantile", "0.9"), d.p90_seconds);
    }
  }
  return os.str();
}

}  // namespace memopt::daemon
