#pragma once
// Image-generation servers, for the image_generation profile: ComfyUI
// (default port 8188: GET /system_stats, GET /queue, POST /free) and
// AUTOMATIC1111 / Forge (default port 7860: GET /sdapi/v1/options,
// POST /sdapi/v1/unload-checkpoint, POST /sdapi/v1/reload-checkpoint).
// Neither lists per-model memory; ComfyUI reports what PyTorch reserved.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/runtime.h"

namespace memopt::runtimes {

struct ComfyDevice {
  std::string name, type;
  std::optional<uint64_t> vram_total_bytes, vram_free_bytes;
  std::optional<uint64_t> torch_vram_total_bytes, torch_vram_free_bytes;  // PyTorch reserved / its free part
};

struct ComfySystemStats {
  std::string comfyui_version;
  std::vector<ComfyDevice> devices;
};

Result<ComfySystemStats> parse_comfyui_system_stats(std::string_view body, const std::string& where);

// What an image server has to render right now: jobs running and waiting.
// `detail` is the server's own word for the running job ("txt2img"; a
// ComfyUI prompt id), for humans only.
struct RenderQueue {
  uint64_t running = 0, pending = 0;
  std::string detail;
  bool busy() const { return running + pending > 0; }
};

// ComfyUI GET /queue: {"queue_running": [[number, prompt_id, prompt,
// extra_data, outputs], ...], "queue_pending": [...]}. Both arrays must be
// there; an entry's shape is not needed (only counted).
Result<RenderQueue> parse_comfyui_queue(std::string_view body, const std::string& where);
// AUTOMATIC1111 / Forge GET /sdapi/v1/progress: {"progress": 0.42,
// "eta_relative": ..., "state": {"job": "...", "job_count": N, "job_no": i,
// ...}}. The web UI sets state.job_count to the jobs of the task it runs
// and back to 0 when it ends (a negative count: running, length unknown);
// requests waiting for its lock are not visible.
Result<RenderQueue> parse_a1111_progress(std::string_view body, const std::string& where);

// The one "model" entry ComfyUI exposes: the whole server's PyTorch pool.
inline constexpr std::string_view kComfyModelName = "comfyui-models";

class ComfyUIClient : public RuntimeClient {
 public:
  ComfyUIClient(const BaseUrl& base, const HttpOptions& options)
      : RuntimeClient(HttpClient(base, options)) {}
  RuntimeKind kind() const override { return RuntimeKind::kComfyUI; }
  Result<RuntimeInfo> info() const override;
  // One entry (kComfyModelName) holding the PyTorch-reserved VRAM, when > 0.
  Result<std::vector<LoadedModel>> loaded_models() const override;
  // POST /free {"unload_models":true,"free_memory":true}: the server unloads
  // every model when its queue is next idle.
  Status unload(const std::string& model) const override;
  Result<ComfySystemStats> system_stats() const;
  // Running + pending prompts (GET /queue).
  Result<uint64_t> queue_length() const;
  Result<RenderQueue> render_queue() const;  // GET /queue
};

class A1111Client : public RuntimeClient {
 public:
  A1111Client(const BaseUrl& base, const HttpOptions& options)
      : RuntimeClient(HttpClient(base, options)) {}
  RuntimeKind kind() const override { return RuntimeKind::kA1111; }
  Result<RuntimeInfo> info() const override;
  // The checkpoint named by options.sd_model_checkpoint (no memory figures).
  Result<std::vector<LoadedModel>> loaded_models() const override;
  Status unload(const std::string& model) const override;   // unload-checkpoint
  Status preload(const std::string& model, const PreloadOptions& options) const override;  // reload-checkpoint
  // GET /sdapi/v1/progress?skip_current_image=true (no preview image sent).
  Result<RenderQueue> render_queue() const;
};

}  // namespace memopt::runtimes
