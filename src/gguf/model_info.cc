// ModelInfo from GGUF headers: hyper-parameters as llama.cpp's loader reads
// them (src/llama-model.cpp, load_hparams; src/llama-hparams.cpp), weights
// from the tensor table.
#include "gguf/model_info.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <unordered_set>

#include "gguf/ggml_type.h"
#include "gguf/reader.h"

namespace memopt::gguf {
namespace {

// Beyond any real model (the largest have ~200 layers); keeps per-layer
// vectors small when a hostile header claims billions of layers.
constexpr uint64_t kMaxBlocks = 65536;
constexpr uint64_t kMaxSplitParts = 9999;

struct InfoFailure {
  std::string message;
};

[[noreturn]] void fail(const std::string& msg) { throw InfoFailure{msg}; }

// Architectures whose loader hard-codes a sliding-window period (llama.cpp
// load_hparams; research/memory-estimation.md §7). window: the loader's
// default when the key is absent (0: the key is required).
struct SwaDefault {
  std::string_view arch;
  uint32_t period;
  uint32_t window;
};
constexpr std::array<SwaDefault, 7> kSwaDefaults = {{
    {"gemma2", 2, 4096},  // n_swa = 4096 "default value of gemma 2"
    {"gemma3", 6, 0},
    {"gemma3n", 5, 0},
    {"gemma-embedding", 6, 0},
    {"cohere2", 4, 0},
    {"gpt-oss", 2, 0},
    {"llama4", 4, 8192},  // chunked attention, n_swa = 8192 unless the key says 0
}};

// Architectures where every layer keeps recurrent state instead of a KV cache.
constexpr std::array<std::string_view, 6> kRecurrentArchs = {"mamba",      "mamba2", "rwkv6",
                                                             "rwkv6qwen2", "rwkv7",  "arwkv7"};

class Builder {
 public:
  Builder(const GgufFile& meta, ModelInfo& info) : f_(meta), m_(info) {}

  std::string key(std::string_view suffix) const {
    return fmt::format("{}.{}", m_.architecture, suffix);
  }

  std::optional<uint64_t> u64(const std::string& k) const {
    const Value* v = f_.find(k);
    if (!v) return std::nullopt;
    auto u = v->as_uint();
    if (!u)
      fail(fmt::format("{}: key {} should be a non-negative integer, not {}", f_.path, k,
                       value_type_name(v->type())));
    return u;
  }
  uint32_t u32(const std::string& k, uint32_t def = 0) const {
    auto u = u64(k);
    if (!u) return def;
    if (*u > UINT32_MAX) fail(fmt::format("{}: key {} = {} is out of range", f_.path, k, *u));
    return static_cast<uint32_t>(*u);
  }

  // A value llama.cpp reads with get_key_or_arr: a scalar for every layer or
  // one entry per layer.
  template <typename T>
  std::vector<T> per_layer(const std::string& k, const std::vector<T>& def) const {
    const Value* v = f_.find(k);
    if (!v) return def;
    const uint32_t n = m_.block_count;
    if (!v->is_array()) {
      auto u = v->as_uint();
      if (!u || *u > std::numeric_limits<T>::max()) {
        fail(fmt::format("{}: key {} should be a non-negative integer or an array of them", f_.path,
                         k));
      }
      return std::vector<T>(n, static_cast<T>(*u));
    }
    if (v->size() != n) {
      fail(fmt::format("{}: key {} has {} entries but {} is {}", f_.path, k, v->size(),
                       key("block_count"), n));
    }
    std::vector<T> out(n);
    for (uint32_t i = 0; i < n; ++i) {
      auto u = v->uint_at(i);
      if (!u || *u > std::numeric_limits<T>::max()) {
        fail(fmt::format("{}: key {} entry {} is not a valid non-negative integer", f_.path, k, i));
      }
      out[i] = static_cast<T>(*u);
    }
    return out;
  }

  bool has_prefix(std::string_view prefix) const {
    return std::any_of(f_.metadata.begin(), f_.metadata.end(), [&](const MetadataEntry& e) {
      return e.key.compare(0, prefix.size(), prefix) == 0;
    });
  }

  void hyperparameters();
  void sliding_window();
  void recurrence();

 private:
  const GgufFile& f_;
  ModelInfo& m_;
};

void Builder::hyperparameters() {
  m_.context_length = u64(key("context_length")).value_or(0);
  m_.embedding_length = u64(key("embedding_length")).value_or(0);
  const uint64_t blocks = u64(key("block_count")).value_or(0);
  if (blocks > kMaxBlocks) {
    fail(fmt::format("{}: {} = {} is beyond any real model (limit {})", f_.path, key("block_count"),
                     blocks, kMaxBlocks));
  }
  m_.block_count = static_cast<uint32_t>(blocks);
  const uint32_t n = m_.block_count;
  m_.feed_forward_length =
      per_layer<uint64_t>(key("feed_forward_length"), std::vector<uint64_t>(n, 0));
  m_.head_count = per_layer<uint32_t>(key("attention.head_count"), std::vector<uint32_t>(n, 0));
  // llama.cpp: n_head_kv defaults to n_head (no GQA).
  m_.head_count_kv = per_layer<uint32_t>(key("attention.head_count_kv"), m_.head_count);
  // llama.cpp: n_embd_head_k = n_embd / n_head(0) unless attention.key_length is given.
  const uint32_t head0 = n > 0 ? m_.head_count[0] : 0;
  const uint32_t def_head = head0 ? static_cast<uint32_t>(m_.embedding_length / head0) : 0;
  m_.key_length = u32(key("attention.key_length"), def_head);
  m_.value_length = u32(key("attention.value_length"), def_head);
  m_.key_length_swa = u32(key("attention.key_length_swa"));
  m_.value_length_swa = u32(key("attention.value_length_swa"));
  m_.key_length_mla = u32(key("attention.key_length_mla"));
  m_.value_length_mla = u32(key("attention.value_length_mla"));
  m_.kv_lora_rank = u32(key("attention.kv_lora_rank"));
  m_.expert_count = u32(key("expert_count"));
  m_.expert_used_count = u32(key("expert_used_count"));
  m_.expert_feed_forward_length = u64(key("expert_feed_forward_length")).value_or(0);
  m_.shared_kv_layers = u32(key("attention.shared_kv_layers"));
  m_.ssm_conv_kernel = u32(key("ssm.conv_kernel"));
  m_.ssm_inner_size = u32(key("ssm.inner_size"));
  m_.ssm_state_size = u32(key("ssm.state_size"));
  m_.ssm_group_count = u32(key("ssm.group_count"));
  m_.ssm_time_step_rank = u32(key("ssm.time_step_rank"));
  m_.wkv_head_size = u32(key("wkv.head_size"));
  m_.token_shift_count = u32(key("token_shift_count"));
  m_.shortconv_l_cache = u32(key("shortconv.l_cache"));
  m_.nextn_predict_layers = u32(key("nextn_predict_layers"));
  if (const Value* c = f_.find(key("attention.causal"))) {
    auto b = c->as_bool();
    if (!b) fail(fmt::format("{}: key {} should be a bool", f_.path, key("attention.causal")));
    m_.causal = *b;
  }
  if (auto v = u64(key("vocab_size"))) {
    m_.vocab_size = *v;
  } else if (const Value* toks = f_.find("tokenizer.ggml.tokens"); toks && toks->is_array()) {
    m_.vocab_size = toks->size();
  }
}

void Builder::sliding_window() {
  const uint32_t n = m_.block_count;
  m_.swa_layers.assign(n, false);
  const SwaDefault* def = nullptr;
  for (const auto& d : kSwaDefaults) {
    if (d.arch == m_.architecture) def = &d;
  }
  const std::string wkey = key("attention.sliding_window");
  const bool has_window_key = f_.find(wkey) != nullptr;
  m_.sliding_window = u32(wkey, def ? def->window : 0);
  if (m_.sliding_window == 0 || n == 0) return;

  // llama_hparams::set_swa_pattern: layer il is SWA when il % p < p - 1, so
  // the last layer of each period is dense; p == 0 makes every layer SWA.
  auto apply_period = [&](uint32_t p) {
    for (uint32_t il = 0; il < n; ++il) m_.swa_layers[il] = p == 0 || (il % p < p - 1);
  };
  const std::string pkey = key("attention.sliding_window_pattern");
  if (const Value* pat = f_.find(pkey)) {
    if (pat->is_array()) {
      if (pat->elem_type() != ValueType::BOOL && !pat->uint_at(0)) {
        fail(fmt::format("{}: key {} should be an integer or an array of bools", f_.path, pkey));
      }
      if (pat->size() != n) {
        fail(fmt::format("{}: key {} has {} entries but {} is {}", f_.path, pkey, pat->size(),
                         key("block_count"), n));
      }
      for (uint32_t il = 0; il < n; ++il) m_.swa_layers[il] = pat->uint_at(il).value_or(0) != 0;
    } else {
      apply_period(u32(pkey));
    }
    m_.swa_pattern_source = "metadata";
  } else if (def) {
    apply_period(def->period);
    m_.swa_pattern_source = "architecture default";
  } else {
    // llama.cpp only applies a window where the architecture's loader asks for one.
    (void)has_window_key;
    return;
  }
  if (std::none_of(m_.swa_layers.begin(), m_.swa_layers.end(), [](bool b) { return b; })) {
    m_.swa_pattern_source.clear();
  }
}

void Builder::recurrence() {
  const uint32_t n = m_.block_count;
  m_.recurrent_layers.assign(n, false);
  const bool pure = std::find(kRecurrentArchs.begin(), kRecurrentArchs.end(), m_.architecture) !=
                    kRecurrentArchs.end();
  if (pure) {
    m_.recurrent_layers.assign(n, true);
    return;
  }
  if (m_.architecture == "qwen3next") {
    // Gated DeltaNet layers, with full attention every full_attention_interval-th layer (default
    // 4).
    const uint32_t interval = u32(key("full_attention_interval"), 4);
    for (uint32_t il = 0; il < n; ++il)
      m_.recurrent_layers[il] = interval == 0 || (il + 1) % interval != 0;
    return;
  }
  // Hybrids (jamba, granitehybrid, nemotron_h, lfm2...): a layer without KV
  // heads is a recurrent one (llama.cpp: recurrent_layer_arr[i] = n_head_kv(i) == 0).
  if (has_prefix(key("ssm.")) || has_prefix(key("wkv.")) || has_prefix(key("shortconv."))) {
    for (uint32_t il = 0; il < n; ++il) m_.recurrent_layers[il] = m_.head_count_kv[il] == 0;
  }
}

void add_weights(ModelInfo& m) {
  const uint32_t n = m.block_count;
  m.layer_weight_bytes.assign(n, 0);
  m.layer_expert_bytes.assign(n, 0);
  for (const TensorInfo& t : m.tensors) {
    uint64_t elements = 1;
    for (uint64_t d : t.shape) elements *= d;  // fits: the reader checked the product
    m.parameter_count += elements;
    m.weight_bytes += t.size_bytes;
    m.bytes_per_type[std::string(ggml_type_traits(t.type)->name)] += t.size_bytes;
    const std::string_view name = t.name;
    if (t.layer >= 0) {
      if (static_cast<uint32_t>(t.layer) >= n) {
        fail(fmt::format("{}: tensor '{}' belongs to layer {} but {}.block_count is {}", m.path,
                         t.name, t.layer, m.architecture, n));
      }
      m.layer_weight_bytes[t.layer] += t.size_bytes;
      if (name.find("_exps") != std::string_view::npos)
        m.layer_expert_bytes[t.layer] += t.size_bytes;
    } else if (name.starts_with("token_embd.")) {
      m.token_embd_bytes += t.size_bytes;
    } else if (name.starts_with("output_norm.")) {
      m.output_norm_bytes += t.size_bytes;
    } else if (name.starts_with("output.")) {
      m.output_bytes += t.size_bytes;
      m.has_output_tensor = true;
    } else {
      m.other_nonlayer_bytes += t.size_bytes;
    }
  }
  if (m.vocab_size == 0) {
    for (const TensorInfo& t : m.tensors) {
      if (t.name == "token_embd.weight" && t.shape.size() >= 2) m.vocab_size = t.shape[1];
    }
  }
}

uint64_t split_value(const GgufFile& f, const char* k, uint64_t def) {
  const Value* v = f.find(k);
  if (!v) return def;
  auto u = v->as_uint();
  if (!u) fail(fmt::format("{}: key {} should be a non-negative integer", f.path, k));
  return *u;
}

}  // namespace

std::string llama_ftype_name(uint32_t ftype) {
  // llama.h enum llama_ftype; removed ids (4-6, 33-35) stay empty.
  static constexpr std::array<std::string_view, 39> kNames = {
      "F32",    "F16",    "Q4_0",  "Q4_1",    "",       "",       "",         "Q8_0",
      "Q5_0",   "Q5_1",   "Q2_K",  "Q3_K_S",  "Q3_K_M", "Q3_K_L", "Q4_K_S",   "Q4_K_M",
      "Q5_K_S", "Q5_K_M", "Q6_K",  "IQ2_XXS", "IQ2_XS", "Q2_K_S", "IQ3_XS",   "IQ3_XXS",
      "IQ1_S",  "IQ4_NL", "IQ3_S", "IQ3_M",   "IQ2_S",  "IQ2_M",  "IQ4_XS",   "IQ1_M",
      "BF16",   "",       "",      "",        "TQ1_0",  "TQ2_0",  "MXFP4_MOE"};
  if (ftype >= kNames.size()) return "";
  return std::string(kNames[ftype]);
}

Result<std::vector<std::string>> split_part_paths(const std::string& path) {
  // llama.cpp's llama_split_path: "%s-%05d-of-%05d.gguf".
  constexpr std::string_view kSuffix = ".gguf";
  const size_t tail = 5 + 4 + 5 + kSuffix.size();  // "NNNNN-of-NNNNN.gguf"
  auto bad = [&] {
    return make_error(
        fmt::format("{}: a split model part must be named <name>-NNNNN-of-NNNNN.gguf", path));
  };
  if (path.size() < tail + 1 ||
      path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return bad();
  }
  const std::string_view t(path.data() + path.size() - tail - 1, tail + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (t[0] != '-' || !digits(t.substr(1, 5)) || t.substr(6, 4) != "-of-" ||
      !digits(t.substr(10, 5))) {
    return bad();
  }
  const uint32_t count = static_cast<uint32_t>(std::stoul(std::string(t.substr(10, 5))));
  if (count == 0) return bad();
  const std::string prefix = path.substr(0, path.size() - tail - 1);
  std::vector<std::string> out;
  for (uint32_t i = 1; i <= count; ++i)
    out.push_back(fmt::format("{}-{:05d}-of-{:05d}.gguf", prefix, i, count));
  return out;
}

Result<ModelInfo> model_info_from_files(const std::vector<GgufFile>& parts) {
  if (parts.empty()) return make_error("no GGUF file given");
  try {
    const GgufFile& meta = parts.front();
    ModelInfo m;
    m.path = meta.path;
    m.gguf_version = meta.version;
    const uint64_t count = split_value(meta, "split.count", 1);
    if (count != std::max<uint64_t>(parts.size(), 1) && !(count == 0 && parts.size() == 1)) {
      fail(fmt::format("{}: split.count is {} but {} part(s) were given", meta.path, count,
                       parts.size()));
    }
    std::unordered_set<std::string_view> names;
    uint64_t total_tensors = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      const GgufFile& p = parts[i];
      if (parts.size() > 1) {
        const uint64_t no = split_value(p, "split.no", UINT64_MAX);
        if (no != i)
          fail(fmt::format("{}: split.no is {} where part {} was expected", p.path, no, i));
        if (split_value(p, "split.count", 0) != count) {
          fail(fmt::format("{}: split.count differs from the first part's {}", p.path, count));
        }
      }
      m.parts.push_back(p.path);
      m.file_bytes += p.file_bytes;
      for (const TensorInfo& t : p.tensors) {
        if (!names.insert(t.name).second) {
          fail(fmt::format("{}: tensor '{}' appears in more than one part", p.path, t.name));
        }
        m.tensors.push_back(t);
        m.tensors.back().split_index = static_cast<int>(i);
      }
      total_tensors += p.tensors.size();
    }
    if (parts.size() > 1) {
      const uint64_t want = split_value(meta, "split.tensors.count", total_tensors);
      if (want != total_tensors) {
        fail(fmt::format("{}: split.tensors.count is {} but the parts hold {} tensors", meta.path,
                         want, total_tensors));
      }
    }

    m.architecture = std::string(meta.get_string("general.architecture").value_or(""));
    m.name = std::string(meta.get_string("general.name").value_or(""));
    m.projector_type = std::string(meta.get_string("clip.projector_type").value_or(""));
    Builder b(meta, m);
    m.is_projector = m.architecture == "clip" || b.has_prefix("clip.");
    if (auto ft = meta.get_uint("general.file_type")) {
      m.file_type = static_cast<uint32_t>(std::min<uint64_t>(*ft, UINT32_MAX));
      m.file_type_name = llama_ftype_name(m.file_type);
    }
    if (!m.architecture.empty()) {
      b.hyperparameters();
      b.sliding_window();
      b.recurrence();
    }
    add_weights(m);
    return m;
  } catch (const InfoFailure& e) {
    return make_error(e.message);
  }
}

Result<ModelInfo> get_model_info(const std::string& path) {
  auto first = read_gguf(path);
  if (!first) return first.error();
  std::vector<GgufFile> parts;
  uint64_t count = 1;
  if (const Value* c = first->find("split.count")) count = c->as_uint().value_or(0);
  if (count <= 1) {
    parts.push_back(std::move(*first));
    return model_info_from_files(parts);
  }
  if (count > kMaxSplitParts) {
    return make_error(
        fmt::format("{}: split.count {} is beyond the limit of {}", path, count, kMaxSplitParts));
  }
  auto paths = split_part_paths(path);
  if (!paths) {
    return make_error(
        fmt::format("{} (the file says it is one of {} parts)", paths.error().message, count));
  }
  if (paths->size() != count) {
    return make_error(fmt::format("{}: the name says {} parts but split.count is {}", path,
                                  paths->size(), count));
  }
  for (const std::string& p : *paths) {
    if (p == path) {
      parts.push_back(std::move(*first));
      continue;
    }
    auto part = read_gguf(p);
    if (!part) {
      return make_error(fmt::format("{} (part of the split model {})", part.error().message, path));
    }
    parts.push_back(std::move(*part));
  }
  return model_info_from_files(parts);
}

}  // namespace memopt::gguf
