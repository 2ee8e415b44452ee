// `ai profile list | show <name> | <name>` and `ai optimize [--apply]`:
// the policy engine's profiles and one pass of it, from the command line.
#include <fmt/format.h>

#include <memory>

#include "cli/command.h"
#include "actuator/actuator.h"
#include "detect/detector.h"
#include "daemon/system_sampler.h"
#include "policy/engine.h"
#include "policy/profile.h"
#include "policy/profile_effects.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {
namespace {

struct ProfileOptions {
  std::vector<std::string> args;
  std::string config;
  std::string state_dir;
};

nlohmann::json profile_json(const policy::Profile& p) {
  return {{"name", p.name},
          {"reserve_vram_percent", p.reserve_vram_percent},
          {"reserve_ram_gb", p.reserve_ram_gb},
          {"kv_cache_limit_percent", p.kv_cache_limit_percent},
          {"auto_offload_threshold", p.auto_offload_threshold},
          {"auto_compact_threshold", p.auto_compact_threshold},
          {"prefer_throughput", p.prefer_throughput},
          {"dynamic_batching", p.dynamic_batching},
          {"continuous_batching", p.continuous_batching},
          {"max_batch_size", p.max_batch_size},
          {"numa_aware", p.numa_aware},
          {"clear_cache_between_generations", p.clear_cache_between_generations},
          {"enable_attention_slicing", p.enable_attention_slicing},
          {"enable_vae_tiling", p.enable_vae_tiling},
          {"idle_unload_seconds", p.idle_unload_seconds},
          {"render_handoff", p.render_handoff}};
}

// What each key changes, or that it is advice only (issue 14: no key is
// silently inert).
nlohmann::json key_effects_json() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : policy::profile_key_effects()) {
    list.push_back({{"key", e.key},
                    {"advice_only", e.advice_only()},
                    {"acts_on", e.acts_on},
                    {"advice", e.advice}});
  }
  return list;
}

int run_profile(CliContext& ctx, const ProfileOptions& o) {
  auto set = policy::load_profiles(o.config);
  if (!set) return fail(ctx, set.error().message);
  auto active = policy::active_profile(o.state_dir);
  if (!active) return fail(ctx, active.error().message);
  const std::string verb = o.args.empty() ? "list" : o.args[0];
  if (verb == "list" && o.args.size() <= 1) {
    if (ctx.opts.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& p : set->profiles) list.push_back(profile_json(p));
      print_json(ctx, {{"schema", "ruvector-memopt.profile/1"}, {"active", *active}, {"profiles", list},
                       {"config", set->source}});
      return kExitOk;
    }
    *ctx.out << fmt::format("  {:<18} {:>7} {:>8} {:>8} {:>9} {:>6}\n", "PROFILE", "OFFLOAD", "COMPACT", "KV LIM",
                            "RAM FREE", "IDLE");
    for (const auto& p : set->profiles) {
      *ctx.out << fmt::format("{} {:<18} {:>6}% {:>7}% {:>7}% {:>6} GiB {:>5}\n", p.name == *active ? "*" : " ",
                              p.name.substr(0, 18), p.auto_offload_threshold, p.auto_compact_threshold,
                              p.kv_cache_limit_percent, p.reserve_ram_gb,
                              p.idle_unload_seconds ? std::to_string(p.idle_unload_seconds) + "s" : "never");
    }
    *ctx.out << "(* active; set with `ruvector-memopt ai profile <name>`)\n";
    return kExitOk;
  }
  if (verb == "show") {
    const std::string name = o.args.size() > 1 ? o.args[1] : *active;
    const policy::Profile* p = set->find(name);
    if (!p) {
      return usage_error(ctx, "ai profile show: no profile '" + name +
                                  "'; `ruvector-memopt ai profile list` shows them");
    }
    if (ctx.opts.json) {
      print_json(ctx, {{"schema", "ruvector-memopt.profile/1"},
                       {"active", *active},
                       {"profile", profile_json(*p)},
                       {"key_effects", key_effects_json()}});
      return kExitOk;
    }
    // Valid TOML still: what each key does is a comment under it.
    *ctx.out << "[ai_mode." << p->name << "]" << (p->name == *active ? "  # active" : "") << "\n";
    const nlohmann::json fields = profile_json(*p);
    for (const auto& [k, v] : fields.items()) {
      if (k == "name") continue;
      const policy::ProfileKeyEffect* e = policy::find_key_effect(k);
      const bool advice = e != nullptr && e->advice_only();
      *ctx.out << k << " = " << v.dump() << (advice ? "  # advice only" : "") << "\n";
      if (e == nullptr) continue;
      std::string_view text = advice ? e->advice : e->acts_on;
      if (advice && text.rfind("advice only: ", 0) == 0) text.remove_prefix(13);
      for (const auto& line : wrap_lines(text, 76)) *ctx.out << "  # " << line << "\n";
    }
    return kExitOk;
  }
  if (o.args.size() != 1) {
    return usage_error(ctx, "usage: ai profile [list | show <name> | <name>]");
  }
  const policy::Profile* p = set->find(verb);
  if (!p) {
    return usage_error(ctx, "ai profile: no profile '" + verb +
                                "'; `ruvector-memopt ai profile list` shows them");
  }
  if (auto st = policy::set_active_profile(o.state_dir, p->name); !st) return fail(ctx, st.error().message);
  if (ctx.opts.json) {
    print_json(ctx, {{"schema", "ruvector-memopt.profile/1"}, {"active", p->name}, {"profile", profile_json(*p)}});
  } else {
    *ctx.out << "active profile: " << p->name << " (a running daemon uses it from its next sample)\n";
  }
  return kExitOk;
}

struct OptimizeOptions {
  bool apply = false;
  bool no_probe = false;
  std::string config;
  std::string state_dir;
};

int run_optimize(CliContext& ctx, const OptimizeOptions& o) {
  auto set = policy::load_profiles(o.config);
  if (!set) return fail(ctx, set.error().message);
  auto active = policy::active_profile(o.state_dir);
  if (!active) return fail(ctx, active.error().message);
  const policy::Profile* profile = set->find(*active);
  if (!profile) return fail(ctx, "active profile '" + *active + "' is not defined; run `ai profile local_llm`");
  daemon::SamplerOptions so;
  so.proc_root = ctx.opts.proc_root;
  so.sys_root = ctx.opts.sys_root;
  so.nvml_library = ctx.opts.nvml_library;
  so.probe_ports = !o.no_probe;
  auto sampler = daemon::make_system_sampler(so);
  daemon::Sample s = sampler->sample(0, {});
  policy::PolicyState state;
  // One pass has no history: the forecaster has nothing to fit, so this
  // acts on the profile's thresholds (the daemon also forecasts).
  policy::PolicyTuning tuning;
  tuning.predict = false;
  policy::Decision d = policy::decide(s.input, *profile, {}, state, tuning);
  auto actuator = actuator::make_runtime_actuator();
  actuator->set_keys(detect::sendable_keys(s.snapshot));
  bool failed = false;
  for (auto& a : d.actions) {
    if (o.apply) {
      auto st = actuator->apply(a);
      a.outcome = st ? "ok" : "failed: " + st.error().message;
      failed |= !st;
    } else {
      a.outcome = "dry-run";
    }
  }
  if (ctx.opts.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : d.actions) {
      list.push_back({{"kind", policy::action_kind_name(a.kind)}, {"target", a.target}, {"runtime", a.runtime},
                      {"model", a.model}, {"gpu", a.gpu}, {"gpu_layers", a.gpu_layers},
                      {"context_length", a.context_length}, {"parallel_slots", a.parallel_slots},
                      {"expected_bytes", a.expected_bytes}, {"host_ram", a.host_ram}, {"reason", a.reason},
                      {"outcome", a.outcome}});
    }
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : s.snapshot.errors) errors.push_back({{"collector", e.collector}, {"message", e.message}});
    print_json(ctx, {{"schema", "ruvector-memopt.optimize/1"}, {"profile", profile->name}, {"applied", o.apply},
                     {"actions", list}, {"notes", d.notes}, {"collector_errors", errors}});
  } else {
    for (const auto& e : s.snapshot.errors) {
      *ctx.err << "warning: " << terminal_safe(e.collector + ": " + e.message, true) << "\n";
    }
    *ctx.out << "profile " << profile->name << ": " << d.actions.size() << " action(s)"
             << (o.apply ? "" : " (dry run; --apply to carry them out)") << "\n";
    for (const auto& a : d.actions) {
      *ctx.out << fmt::format("- {} {}: frees {} [{}]\n  {}\n", policy::action_kind_name(a.kind), a.target,
                              format_bytes(a.expected_bytes), a.outcome, a.reason);
    }
    for (const auto& n : d.notes) *ctx.out << "note: " << n << "\n";
    for (const auto& t : d.thermal) *ctx.out << "GPU " << t.gpu << " is throttling (" << t.reason << ")\n";
  }
  return failed ? kExitFailure : kExitOk;
}

RegisterCommands reg(30, [](CliRoot& root) {
  CLI::App* ai = root.group("ai", "AI workloads: detect, status, plan, ...");
  auto po = std::make_shared<ProfileOptions>();
  po->config = policy::default_config_path();
  po->state_dir = policy::default_state_dir();
  auto* prof = ai->add_subcommand("profile", "List, show or choose the optimization profile");
  prof->add_option("args", po->args, "list | show <name> | <name>")->expected(0, 2);
  prof->add_option("--config", po->config, "config file with [ai_mode.<name>] tables")->capture_default_str();
  prof->add_option("--state-dir", po->state_dir, "where the active profile is kept")->capture_default_str();
  root.bind(prof, [po](CliContext& ctx) { return run_profile(ctx, *po); });

  auto oo = std::make_shared<OptimizeOptions>();
  oo->config = policy::default_config_path();
  oo->state_dir = policy::default_state_dir();
  auto* opt = ai->add_subcommand("optimize", "One pass of the policy: what to free and why");
  opt->add_flag("--apply", oo->apply, "carry the actions out through the runtimes' APIs");
  opt->add_flag("--no-probe", oo->no_probe, "do not probe listening ports over HTTP");
  opt->add_option("--config", oo->config, "config file")->capture_default_str();
  opt->add_option("--state-dir", oo->state_dir, "state directory")->capture_default_str();
  root.bind(opt, [oo](CliContext& ctx) { return run_optimize(ctx, *oo); });
});

}  // namespace
}  // namespace memopt::cli
