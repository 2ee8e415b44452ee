#include "serve/llama_args.h"

#include <charconv>
#include <string_view>

#include "detect/detector.h"
#include "estimate/placement.h"

namespace memopt::serve {
namespace {

// The value the last of `flags` gives ("-ctk q8_0", "--cache-type-k=q8_0"),
// as llama-server takes a repeated option.
using detect::flag_value;

bool has_flag(const std::vector<std::string> &a, std::string_view f) {
  for (const auto &x : a) {
    if (x == f) return true;
  }
  return false;
}

Result<uint64_t> whole(const std::string &flag, const std::string &v, uint64_t max) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n > max) {
    return make_error("command argument " + flag + " '" + v + "' is not a whole number up to " +
                      std::to_string(max));
  }
  return n;
}

}  // namespace

Result<LlamaLaunch> read_llama_args(const std::vector<std::string> &argv) {
  LlamaLaunch out;
  detect::CommandView view;
  view.args = argv;
  out.model_path = detect::model_from_args(view);
  if (auto m = flag_value(argv, {"-m", "--model"})) out.model_path = *m;
  // llama-server splits -c over the -np sequences (unless --kv-unified).
  uint64_t np = detect::parallel_from_args(view);
  if (np == 0 && flag_value(argv, {"-np", "--parallel"})) {
    return make_error("command argument -np is not a number of sequences from 1 to 1024");
  }
  out.settings.parallel = np ? static_cast<uint32_t>(np) : 1;
  if (auto c = flag_value(argv, {"-c", "--ctx-size"})) {
    auto n = whole("-c", *c, 1ULL << 24);
    if (!n) return n.error();
    // -c 0 is "the model's training context"; the planner then reads it from
    // the file.
    out.settings.ctx_per_seq = *n / out.settings.parallel;
  }
  if (auto v = flag_value(argv, {"-ngl", "--n-gpu-layers", "--gpu-layers"})) {
    if (*v == "auto" || *v == "all" || *v == "-1") {
      out.n_gpu_layers = std::nullopt;
    } else {
      auto n = whole("-ngl", *v, 100000);
      if (!n) return n.error();
      out.n_gpu_layers = static_cast<uint32_t>(*n);
    }
  }
  struct KvFlag {
    std::optional<std::string> value;
    const char *name;
    uint32_t *field;
  };
  const KvFlag kv[] = {
      {flag_value(argv, {"-ctk", "--cache-type-k"}), "-ctk", &out.settings.type_k},
      {flag_value(argv, {"-ctv", "--cache-type-v"}), "-ctv", &out.settings.type_v}};
  for (const KvFlag &f : kv) {
    if (!f.value) continue;
    auto t = estimate::kv_type_from_name(*f.value);
    if (!t) {
      return make_error("command argument " + std::string(f.name) + " '" + *f.value +
                        "' is not a KV cache type llama.cpp accepts");
    }
    *f.field = *t;
  }
  if (auto v = flag_value(argv, {"-fa", "--flash-attn"})) {
    if (*v == "on" || *v == "auto" || *v == "1" || *v == "true") {
      out.settings.flash_attn = true;
    } else if (*v == "off" || *v == "0" || *v == "false") {
      out.settings.flash_attn = false;
    } else if (v->starts_with("-")) {
      out.settings.flash_attn = true;  // the old bare -fa flag
    } else {
      return make_error("command argument -fa '" + *v + "' must be on, off or auto");
    }
  } else if (has_flag(argv, "-fa") || has_flag(argv, "--flash-attn")) {
    out.settings.flash_attn = true;
  }
  if (auto v = flag_value(argv, {"-b", "--batch-size"})) {
    auto n = whole("-b", *v, 1 << 20);
    if (!n || *n == 0) return make_error("command argument -b '" + *v + "' is not a batch size");
    out.settings.n_batch = static_cast<uint32_t>(*n);
  }
  if (auto v = flag_value(argv, {"-ub", "--ubatch-size"})) {
    auto n = whole("-ub", *v, 1 << 20);
    if (!n || *n == 0) return make_error("command argument -ub '" + *v + "' is not a batch size");
    out.settings.n_ubatch = static_cast<uint32_t>(*n);
  }
  out.settings.kv_unified = has_flag(argv, "--kv-unified") || has_flag(argv, "-kvu");
  out.settings.swa_full = has_flag(argv, "--swa-full");
  return out;
}

}  // namespace memopt::serve
