#include "serve/translate.h"

namespace memopt::serve {
namespace {

using nlohmann::json;

constexpr size_t kMaxEvent = 16u << 20;

// Ollama's options that have an OpenAI field of the same meaning.
void copy_options(const json &request, json &body) {
  const json *opts =
      request.contains("options") && request["options"].is_object() ? &request["options"] : nullptr;
  if (!opts) return;
  static const std::pair<const char *, const char *> kMap[] = {
      {"num_predict", "max_tokens"},
      {"temperature", "temperature"},
      {"top_p", "top_p"},
      {"seed", "seed"},
      {"stop", "stop"},
      {"frequency_penalty", "frequency_penalty"},
      {"presence_penalty", "presence_penalty"}};
  for (auto [from, to] : kMap) {
    if (opts->contains(from) && !(*opts)[from].is_null()) body[to] = (*opts)[from];
  }
}

std::string text_of(const json &j, const char *key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

}  // namespace

Result<std::vector<std::string>> SseReader::feed(std::string_view bytes) {
  buf_.append(bytes);
  std::vector<std::string> out;
  for (;;) {
    size_t end = std::string::npos, skip = 0;
    // Resume where the last scan stopped (minus the 2 bytes a split "\n\r\n"
    // may straddle): a backend sending one byte at a time costs O(n), not O(n^2).
    for (size_t i = scanned_ > 2 ? scanned_ - 2 : 0; i + 1 < buf_.size(); ++i) {
      if (buf_[i] == '\n' && buf_[i + 1] == '\n') {
        end = i, skip = 2;
        break;
      }
      if (buf_[i] == '\n' && buf_[i + 1] == '\r' && i + 2 < buf_.size() && buf_[i + 2] == '\n') {
        end = i, skip = 3;
        break;
      }
    }
    if (end == std::string::npos) {
      scanned_ = buf_.size();
      break;
    }
    scanned_ = 0;
    std::string event = buf_.substr(0, end);
    buf_.erase(0, end + skip);
    std::string data;
    bool any = false;
    size_t pos = 0;
    while (pos <= event.size()) {
      size_t nl = event.find('\n', pos);
      if (nl == std::string::npos) nl = event.size();
      std::string_view line(event.data() + pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.starts_with("data:")) {
        line.remove_prefix(5);
        if (line.starts_with(" ")) line.remove_prefix(1);
        if (any) data += '\n';
        data.append(line);
        any = true;
      }
      pos = nl + 1;
    }
    if (any) out.push_back(std::move(data));
  }
  if (buf_.size() > kMaxEvent) {
    return make_error("an SSE event from the backend is larger than 16 MiB");
  }
  return out;
}

Result<TranslatedRequest> ollama_to_openai(OllamaKind kind, const json &request,
                                           const std::string &upstream_model) {
  if (!request.is_object()) return make_error("the request body must be a JSON object");
  TranslatedRequest t;
  t.body = json::object();
  t.body["model"] = upstream_model;
  if (kind == OllamaKind::kEmbed) {
    t.path = "/v1/embeddings";
    if (!request.contains("input") ||
        !(request["input"].is_string() || request["input"].is_array())) {
      return make_error("field \"input\" must be a string or a list of strings");
    }
    t.body["input"] = request["input"];
    return t;
  }
  t.path = "/v1/chat/completions";
  // Ollama streams unless told not to.
  t.stream = !(request.contains("stream") && request["stream"].is_boolean() &&
               !request["stream"].get<bool>());
  if (request.contains("stream") && !request["stream"].is_boolean()) {
    return make_error("field \"stream\" must be true or false");
  }
  t.body["stream"] = t.stream;
  if (kind == OllamaKind::kChat) {
    if (!request.contains("messages") || !request["messages"].is_array()) {
      return make_error("field \"messages\" must be a list of {role, content}");
    }
    json msgs = json::array();
    for (const auto &m : request["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
        return make_error("each message must be an object with a string \"role\"");
      }
      msgs.push_back({{"role", m["role"]}, {"content", text_of(m, "content")}});
    }
    t.body["messages"] = msgs;
  } else {
    // /api/generate as one user turn (with the request's system prompt): the
    // chat endpoint is the one every OpenAI-compatible server has.
    if (!request.contains("prompt") || !request["prompt"].is_string()) {
      return make_error("field \"prompt\" must be a string");
    }
    json msgs = json::array();
    if (!text_of(request, "system").empty()) {
      msgs.push_back({{"role", "system"}, {"content", text_of(request, "system")}});
    }
    msgs.push_back({{"role", "user"}, {"content", request["prompt"]}});
    t.body["messages"] = msgs;
  }
  copy_options(request, t.body);
  return t;
}

std::string openai_event_to_ollama_line(OllamaKind kind, const json &event,
                                        const std::string &model, const std::string &created_at) {
  if (!event.is_object() || !event.contains("choices") || !event["choices"].is_array() ||
      event["choices"].empty()) {
    return "";
  }
  const json &c = event["choices"][0];
  std::string text;
  if (c.is_object() && c.contains("delta")) text = text_of(c["delta"], "content");
  if (text.empty()) return "";
  json line = {{"model", model}, {"created_at", created_at}, {"done", false}};
  if (kind == OllamaKind::kChat) {
    line["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    line["response"] = text;
  }
  return line.dump() + "\n";
}

std::string ollama_done_line(OllamaKind kind, const std::string &model,
                             const std::string &created_at, const std::string &done_reason) {
  json line = {
      {"model", model}, {"created_at", created_at}, {"done", true}, {"done_reason", done_reason}};
  if (kind == OllamaKind::kChat) {
    line["message"] = {{"role", "assistant"}, {"content", ""}};
  } else {
    line["response"] = "";
  }
  return line.dump() + "\n";
}

Result<json> openai_answer_to_ollama(OllamaKind kind, std::string_view body,
                                     const std::string &model, const std::string &created_at) {
  json a = json::parse(body, nullptr, false);
  if (a.is_discarded() || !a.is_object()) return make_error("the backend's answer is not JSON");
  if (kind == OllamaKind::kEmbed) {
    if (!a.contains("data") || !a["data"].is_array()) {
      return make_error("the backend's embeddings answer has no \"data\" list");
    }
    json embs = json::array();
    for (const auto &d : a["data"]) {
      if (!d.is_object() || !d.contains("embedding") || !d["embedding"].is_array()) {
        return make_error("an item of the backend's \"data\" has no \"embedding\" list");
      }
      embs.push_back(d["embedding"]);
    }
    return json{{"model", model}, {"embeddings", embs}};
  }
  if (!a.contains("choices") || !a["choices"].is_array() || a["choices"].empty() ||
      !a["choices"][0].is_object()) {
    return make_error("the backend's answer has no \"choices\"");
  }
  const json &c = a["choices"][0];
  std::string text = c.contains("message") ? text_of(c["message"], "content") : "";
  std::string reason = text_of(c, "finish_reason");
  json out = {{"model", model},
              {"created_at", created_at},
              {"done", true},
              {"done_reason", reason.empty() ? "stop" : reason}};
  if (kind == OllamaKind::kChat) {
    out["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    out["response"] = text;
  }
  if (a.contains("usage") && a["usage"].is_object()) {
    const json &u = a["usage"];
    if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number()) {
      out["prompt_eval_count"] = u["prompt_tokens"];
    }
    if (u.contains("completion_tokens") && u["completion_tokens"].is_number()) {
      out["eval_count"] = u["completion_tokens"];
    }
  }
  return out;
}

}  // namespace memopt::serve
