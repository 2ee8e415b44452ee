// `model inspect <file.gguf | ollama-model>`: what a model file holds (facts,
// quantization mix, weights per layer, largest tensors) from its header alone.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>

#include "cli/command.h"
#include "gguf/ggml_type.h"
#include "gguf/model_info.h"
#include "gguf/ollama_store.h"
#include "gguf/reader.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {
namespace {

using gguf::ModelInfo;
using nlohmann::json;

struct InspectOptions {
  std::string target;
  std::vector<std::string>
      ollama_roots;  // empty: $OLLAMA_MODELS / ~/.ollama/models / service store
  size_t top = 10;
};

// Metadata as JSON; arrays longer than max_items become {count, first}.
json value_json(const gguf::Value& v, uint64_t max_items) {
  using gguf::ValueType;
  if (!v.is_array()) {
    switch (v.type()) {
      case ValueType::STRING:
        return valid_utf8(*v.as_string());
      case ValueType::BOOL:
        return *v.as_bool();
      case ValueType::F32:
      case ValueType::F64:
        return *v.as_double();
      case ValueType::I8:
      case ValueType::I16:
      case ValueType::I32:
      case ValueType::I64:
        return *v.as_int();
      default:
        return *v.as_uint();
    }
  }
  json items = json::array();
  const uint64_t n = std::min(v.size(), max_items);
  for (uint64_t i = 0; i < n; ++i) {
    switch (v.elem_type()) {
      case ValueType::STRING:
        items.push_back(valid_utf8(v.string_at(i)));
        break;
      case ValueType::ARRAY:
        items.push_back(value_json(v.item(i), max_items));
        break;
      case ValueType::BOOL:
        items.push_back(v.uint_at(i).value_or(0) != 0);
        break;
      case ValueType::F32:
      case ValueType::F64:
        items.push_back(*v.double_at(i));
        break;
      case ValueType::I8:
      case ValueType::I16:
      case ValueType::I32:
      case ValueType::I64:
        items.push_back(*v.int_at(i));
        break;
      default:
        items.push_back(*v.uint_at(i));
        break;
    }
  }
  if (n == v.size()) return items;
  return json{{"count", v.size()}, {"first", items}};
}

std::string type_name(uint32_t type) {
  auto t = gguf::ggml_type_traits(type);
  return t ? std::string(t->name) : fmt::format("type{}", type);
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
  return s;
}

// 110.9K, 7.24B: parameter counts as model cards write them.
std::string count_text(uint64_t n) {
  if (n >= 1000000000ull) return fmt::format("{:.2f}B", static_cast<double>(n) / 1e9);
  if (n >= 1000000ull) return fmt::format("{:.1f}M", static_cast<double>(n) / 1e6);
  if (n >= 1000ull) return fmt::format("{:.1f}K", static_cast<double>(n) / 1e3);
  return std::to_string(n);
}

struct TypeRow {
  std::string type;
  uint64_t tensors = 0;
  uint64_t bytes = 0;
};

std::vector<TypeRow> type_rows(const ModelInfo& m) {
  std::map<std::string, TypeRow> rows;
  for (const auto& t : m.tensors) {
    TypeRow& r = rows[type_name(t.type)];
    r.type = type_name(t.type);
    ++r.tensors;
    r.bytes += t.size_bytes;
  }
  std::vector<TypeRow> out;
  for (auto& [k, r] : rows) out.push_back(r);
  std::stable_sort(out.begin(), out.end(),
                   [](const TypeRow& a, const TypeRow& b) { return a.bytes > b.bytes; });
  return out;
}

std::vector<const gguf::TensorInfo*> largest(const ModelInfo& m, size_t top) {
  std::vector<const gguf::TensorInfo*> v;
  for (const auto& t : m.tensors) v.push_back(&t);
  std::stable_sort(v.begin(), v.end(),
                   [](auto* a, auto* b) { return a->size_bytes > b->size_bytes; });
  if (v.size() > top) v.resize(top);
  return v;
}

template <typename T>
std::string per_layer_text(const std::vector<T>& v) {
  if (v.empty()) return "-";
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  if (*lo == *hi) return std::to_string(*lo);
  return fmt::format("{}..{} (per layer)", *lo, *hi);
}

size_t count_true(const std::vector<bool>& v) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), true));
}

json inspect_json(const ModelInfo& m, const gguf::GgufFile& meta, const InspectOptions& o,
                  const gguf::OllamaModelFiles* ollama, bool verbose) {
  json doc;
  doc["schema"] = "ruvector-memopt.model-inspect/1";
  json src{{"input", valid_utf8(o.target)}, {"kind", ollama ? "ollama" : "file"}};
  if (ollama) {
    src["ollama"] = {{"store", ollama->root},
                     {"manifest", ollama->manifest_path},
                     {"projector", ollama->projector_path.empty() ? json(nullptr)
                                                                  : json(ollama->projector_path)}};
  }
  doc["source"] = src;
  doc["path"] = m.path;
  doc["parts"] = m.parts;
  doc["gguf_version"] = m.gguf_version;
  doc["file_bytes"] = m.file_bytes;
  doc["architecture"] = valid_utf8(m.architecture);
  doc["name"] = valid_utf8(m.name);
  doc["is_projector"] = m.is_projector;
  doc["projector_type"] = valid_utf8(m.projector_type);
  doc["file_type"] = {{"id", m.file_type}, {"name", m.file_type_name}};
  doc["parameter_count"] = m.parameter_count;
  doc["weight_bytes"] = m.weight_bytes;
  doc["tensor_count"] = m.tensors.size();
  json hp;
  hp["context_length"] = m.context_length;
  hp["embedding_length"] = m.embedding_length;
  hp["block_count"] = m.block_count;
  hp["feed_forward_length"] = m.feed_forward_length;
  hp["head_count"] = m.head_count;
  hp["head_count_kv"] = m.head_count_kv;
  hp["key_length"] = m.key_length;
  hp["value_length"] = m.value_length;
  hp["key_length_swa"] = m.key_length_swa;
  hp["value_length_swa"] = m.value_length_swa;
  hp["key_length_mla"] = m.key_length_mla;
  hp["value_length_mla"] = m.value_length_mla;
  hp["kv_lora_rank"] = m.kv_lora_rank;
  hp["expert_count"] = m.expert_count;
  hp["expert_used_count"] = m.expert_used_count;
  hp["expert_feed_forward_length"] = m.expert_feed_forward_length;
  hp["sliding_window"] = m.sliding_window;
  hp["swa_layers"] = m.swa_layers;
  hp["swa_pattern_source"] = m.swa_pattern_source;
  hp["shared_kv_layers"] = m.shared_kv_layers;
  hp["recurrent_layers"] = m.recurrent_layers;
  hp["ssm"] = {{"conv_kernel", m.ssm_conv_kernel},
               {"inner_size", m.ssm_inner_size},
               {"state_size", m.ssm_state_size},
               {"group_count", m.ssm_group_count},
               {"time_step_rank", m.ssm_time_step_rank}};
  hp["wkv_head_size"] = m.wkv_head_size;
  hp["token_shift_count"] = m.token_shift_count;
  hp["shortconv_l_cache"] = m.shortconv_l_cache;
  hp["nextn_predict_layers"] = m.nextn_predict_layers;
  hp["vocab_size"] = m.vocab_size;
  hp["causal"] = m.causal;
  doc["hyperparameters"] = hp;
  doc["weights"] = {
      {"token_embd_bytes", m.token_embd_bytes},    {"output_bytes", m.output_bytes},
      {"output_norm_bytes", m.output_norm_bytes},  {"other_nonlayer_bytes", m.other_nonlayer_bytes},
      {"has_output_tensor", m.has_output_tensor},  {"layer_weight_bytes", m.layer_weight_bytes},
      {"layer_expert_bytes", m.layer_expert_bytes}};
  json types = json::array();
  for (const auto& r : type_rows(m))
    types.push_back({{"type", r.type}, {"tensors", r.tensors}, {"bytes", r.bytes}});
  doc["bytes_per_type"] = types;
  auto tensor_json = [](const gguf::TensorInfo& t) {
    return json{{"name", valid_utf8(t.name)}, {"type", type_name(t.type)}, {"shape", t.shape},
                {"bytes", t.size_bytes},      {"offset", t.offset},        {"layer", t.layer},
                {"part", t.split_index}};
  };
  json top = json::array();
  for (const auto* t : largest(m, o.top)) top.push_back(tensor_json(*t));
  doc["largest_tensors"] = top;
  json md = json::object();
  for (const auto& e : meta.metadata)
    md[valid_utf8(e.key)] = value_json(e.value, verbose ? UINT64_MAX : 8);
  doc["metadata"] = md;
  if (verbose) {
    json all = json::array();
    for (const auto& t : m.tensors) all.push_back(tensor_json(t));
    doc["tensors"] = all;
  }
  return doc;
}

void print_human(std::ostream& out, const ModelInfo& m, const InspectOptions& o,
                 const gguf::OllamaModelFiles* ollama) {
  const std::string title = m.name.empty() ? std::string("(unnamed model)") : m.name;
  std::string kind = m.architecture.empty() ? "no architecture" : m.architecture;
  if (!m.file_type_name.empty()) kind += ", " + m.file_type_name;
  if (m.is_projector) kind += ", multimodal projector";
  out << fit(fmt::format("{}  ({}, GGUF v{})", title, kind, m.gguf_version), 79) << "\n";
  auto line = [&](std::string_view label, const std::string& text) {
    out << "  " << pad_right(label, 12) << fit(text, 65) << "\n";
  };
  if (ollama) line("ollama", o.target);
  line("file", m.path);
  if (m.parts.size() > 1)
    line("parts", fmt::format("{} files, {} in all", m.parts.size(), format_bytes(m.file_bytes)));
  line("size", fmt::format("{} on disk, {} of weights", format_bytes(m.file_bytes),
                           format_bytes(m.weight_bytes)));
  line("parameters",
       fmt::format("{} ({} tensors)", count_text(m.parameter_count), m.tensors.size()));
  if (m.is_projector && !m.projector_type.empty()) line("projector", m.projector_type);
  if (m.context_length) line("context", fmt::format("{} tokens (trained)", m.context_length));
  if (m.block_count) {
    line("layers", fmt::format("{}, embedding {}, feed-forward {}", m.block_count,
                               m.embedding_length, per_layer_text(m.feed_forward_length)));
  }
  const bool any_heads =
      std::any_of(m.head_count.begin(), m.head_count.end(), [](uint32_t h) { return h; });
  if (any_heads) {
    const std::string kv = per_layer_text(m.head_count_kv);
    std::string gqa;
    // Grouped-query attention: several query heads share one KV head.
    const bool uniform = m.head_count.size() == m.head_count_kv.size() &&
                         std::adjacent_find(m.head_count.begin(), m.head_count.end(),
                                            std::not_equal_to<>()) == m.head_count.end() &&
                         std::adjacent_find(m.head_count_kv.begin(), m.head_count_kv.end(),
                                            std::not_equal_to<>()) == m.head_count_kv.end();
    if (uniform && m.head_count_kv[0] && m.head_count[0] > m.head_count_kv[0] &&
        m.head_count[0] % m.head_count_kv[0] == 0) {
      gqa = fmt::format(" (GQA {}:1)", m.head_count[0] / m.head_count_kv[0]);
    }
    std::string att =
        fmt::format("{} heads, {} KV heads{}, head size {}/{} (K/V)", per_layer_text(m.head_count),
                    kv, gqa, m.key_length, m.value_length);
    line("attention", att);
  }
  if (m.key_length_mla) {
    line("MLA", fmt::format("kv_lora_rank {}, K/V head {}/{} (latent cache)", m.kv_lora_rank,
                            m.key_length_mla, m.value_length_mla));
  }
  if (m.sliding_window) {
    const size_t swa = count_true(m.swa_layers);
    line("window", swa ? fmt::format("{} tokens on {} of {} layers ({})", m.sliding_window, swa,
                                     m.block_count, m.swa_pattern_source)
                       : fmt::format("{} tokens in metadata, no sliding-window layers for {}",
                                     m.sliding_window, m.architecture));
  }
  if (m.expert_count) {
    line("experts", fmt::format("{}, {} used per token, expert feed-forward {}", m.expert_count,
                                m.expert_used_count, m.expert_feed_forward_length));
  }
  if (const size_t rec = count_true(m.recurrent_layers)) {
    std::string what = fmt::format("{} of {} layers keep recurrent state", rec, m.block_count);
    if (m.ssm_state_size)
      what += fmt::format(" (SSM state {}, inner {})", m.ssm_state_size, m.ssm_inner_size);
    line("recurrent", what);
  }
  if (m.vocab_size) line("vocabulary", fmt::format("{} tokens", m.vocab_size));
  if (!m.causal) line("attention", "non-causal (embedding / reranker model)");
  if (!m.layer_weight_bytes.empty()) {
    auto [lo, hi] = std::minmax_element(m.layer_weight_bytes.begin(), m.layer_weight_bytes.end());
    std::string w = *lo == *hi ? fmt::format("{} each", format_bytes(*lo))
                               : fmt::format("{} to {}", format_bytes(*lo), format_bytes(*hi));
    uint64_t experts = 0;
    for (uint64_t e : m.layer_expert_bytes) experts += e;
    if (experts) w += fmt::format(" ({} of experts in all)", format_bytes(experts));
    line("per layer", w);
  }
  std::string nonlayer = fmt::format("token_embd {}", format_bytes(m.token_embd_bytes));
  nonlayer += m.has_output_tensor ? fmt::format(", output {}", format_bytes(m.output_bytes))
                                  : ", output tied";
  nonlayer += fmt::format(", norm {}", format_bytes(m.output_norm_bytes));
  if (m.other_nonlayer_bytes)
    nonlayer += fmt::format(", other {}", format_bytes(m.other_nonlayer_bytes));
  line("non-layer", nonlayer);

  out << "\n"
      << fmt::format("  {:<10} {:>8} {:>14} {:>7}", "type", "tensors", "bytes", "share") << "\n";
  for (const auto& r : type_rows(m)) {
    const double share =
        m.weight_bytes ? 100.0 * static_cast<double>(r.bytes) / static_cast<double>(m.weight_bytes)
                       : 0;
    out << fmt::format("  {} {:>8} {:>14} {:>6.1f}%", pad_right(r.type, 10), r.tensors,
                       format_bytes(r.bytes), share)
        << "\n";
  }
  const auto top = largest(m, o.top);
  if (!top.empty()) {
    out << "\n  largest tensors\n";
    for (const auto* t : top) {
      out << "  "
          << table_row({{36, false}, {7, false}, {17, false}, {11, true}},
                       {t->name, type_name(t->type), shape_text(t->shape),
                        format_bytes(t->size_bytes)})
          << "\n";
    }
  }
}

int run_inspect(CliContext& ctx, const InspectOptions& o) {
  auto ref = gguf::resolve_model_ref(o.target, o.ollama_roots);
  if (!ref) return fail(ctx, ref.error().message);
  const std::string path = ref->path;
  const std::optional<gguf::OllamaModelFiles>& ollama = ref->ollama;
  auto info = gguf::get_model_info(path);
  if (!info) return fail(ctx, info.error().message);
  // The metadata listing comes from the first part, which holds it.
  auto meta = gguf::read_gguf(info->parts.empty() ? path : info->parts.front());
  if (!meta) return fail(ctx, meta.error().message);
  if (ctx.opts.json) {
    print_json(ctx,
               inspect_json(*info, *meta, o, ollama ? &*ollama : nullptr, ctx.opts.verbose > 0));
  } else {
    print_human(*ctx.out, *info, o, ollama ? &*ollama : nullptr);
  }
  return kExitOk;
}

RegisterCommands reg(40, [](CliRoot& root) {
  CLI::App* model = root.group("model", "Model files: inspect what a GGUF holds");
  auto* cmd = model->add_subcommand(
      "inspect",
      "Show a GGUF model's facts, quantization mix, weights per layer and largest tensors");
  auto opts = std::make_shared<InspectOptions>();
  cmd->add_option("model", opts->target,
                  "GGUF file (any part of a split model) or Ollama model name (llama3.2:3b)")
      ->required();
  cmd->add_option(
      "--ollama-models", opts->ollama_roots,
      "Ollama store directory to search (default: $OLLAMA_MODELS or ~/.ollama/models, then "
      "/usr/share/ollama/.ollama/models)");
  cmd->add_option("--top", opts->top, "How many of the largest tensors to list")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  root.bind(cmd, [opts](CliContext& ctx) { return run_inspect(ctx, *opts); });
});

}  // namespace
}  // namespace memopt::cli
