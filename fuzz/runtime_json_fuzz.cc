// libFuzzer target: every runtime payload parser (Ollama, llama.cpp, vLLM,
// SGLang, TGI, ComfyUI, AUTOMATIC1111) and the error-message extractor on hostile bodies.
#include <cstdint>
#include <string>
#include <string_view>

#include "runtimes/http.h"
#include "runtimes/image_gen.h"
#include "runtimes/llamacpp.h"
#include "runtimes/ollama.h"
#include "runtimes/sglang.h"
#include "runtimes/tgi.h"
#include "runtimes/vllm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memopt::runtimes;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string where = "fuzz";
  (void)parse_ollama_ps(body, where);
  (void)parse_ollama_tags(body, where);
  if (auto d = parse_ollama_show(body, where)) (void)d->kv_bytes_per_token_f16();
  if (auto p = parse_llamacpp_props(body, where)) {
    auto slots = parse_llamacpp_slots(body, where);
    (void)llamacpp_kv(*p, slots ? *slots : std::vector<LlamaCppSlot>{}, nullptr);
  }
  (void)parse_llamacpp_router_models(body, where);
  (void)parse_vllm_models(body, where);
  if (auto s = parse_sglang_server_info(body, where)) (void)sglang_kv(&*s, nullptr);
  (void)parse_tgi_info(body, where);
  (void)parse_comfyui_system_stats(body, where);
  (void)parse_comfyui_queue(body, where);
  (void)parse_a1111_progress(body, where);
  (void)server_message(body);
  return 0;
}
