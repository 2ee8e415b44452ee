// Real hyper-parameters of current open models, one per architecture family
// the estimator is checked against (values from each model's published
// config.json, as its GGUF conversion writes them). Each entry becomes a
// zero-weight GGUF (gguf_sparse.mjs) whose tensor table llama.cpp itself
// dictates (estimate_real_models.mjs discovers it from the loader), so the
// files have exactly the tensors and shapes a real conversion has.
//
// Fields: name (file name), model (what it is shaped after), arch, n_ctx_train,
// untied (an output.weight beside token_embd), kv (architecture keys without
// the "<arch>." prefix; arrays as JS arrays), ctx (the grid's contexts; the
// last is the long one: 128k where the model supports it), extraTensors
// (tensors the loader treats as optional but the real conversion writes).

const u32 = (v) => ({t: "u32", v});
const f32 = (v) => ({t: "f32", v});
const bool = (v) => ({t: "bool", v});
const arrU32 = (v) => ({t: "arr", of: "u32", v});
const arrI32 = (v) => ({t: "arr", of: "i32", v});
const arrBool = (v) => ({t: "arr", of: "bool", v});

const kLongCtx = [4096, 32768, 131072];

function llamaLike(o) {
  return {
    block_count: u32(o.layers), context_length: u32(o.ctx), embedding_length: u32(o.embd),
    feed_forward_length: u32(o.ff), "attention.head_count": u32(o.heads),
    "attention.head_count_kv": Array.isArray(o.kvHeads) ? arrU32(o.kvHeads) : u32(o.kvHeads),
    "attention.layer_norm_rms_epsilon": f32(o.eps ?? 1e-6), "rope.freq_base": f32(o.ropeBase ?? 1e6),
    ...(o.headDim ? {"attention.key_length": u32(o.headDim), "attention.value_length": u32(o.headDim),
      "rope.dimension_count": u32(o.ropeDim ?? o.headDim)} : {}),
    vocab_size: u32(o.vocab),
  };
}

export const families = [
  {name: "llama3.1-8b", model: "Meta-Llama-3.1-8B-Instruct", arch: "llama", untied: true, ctx: kLongCtx,
    kv: llamaLike({layers: 32, ctx: 131072, embd: 4096, ff: 14336, heads: 32, kvHeads: 8, headDim: 128,
      vocab: 128256, eps: 1e-5, ropeBase: 500000})},
  {name: "qwen2.5-7b", model: "Qwen2.5-7B-Instruct", arch: "qwen2", untied: true, ctx: [4096, 16384, 32768],
    kv: llamaLike({layers: 28, ctx: 32768, embd: 3584, ff: 18944, heads: 28, kvHeads: 4, headDim: 128,
      vocab: 152064})},
  {name: "qwen3-8b", model: "Qwen3-8B", arch: "qwen3", untied: true, ctx: [4096, 16384, 40960],
    kv: llamaLike({layers: 36, ctx: 40960, embd: 4096, ff: 12288, heads: 32, kvHeads: 8, headDim: 128,
      vocab: 151936})},
  {name: "qwen3-30b-a3b", model: "Qwen3-30B-A3B-Instruct-2507", arch: "qwen3moe", untied: true, ctx: kLongCtx,
    kv: {...llamaLike({layers: 48, ctx: 262144, embd: 2048, ff: 6144, heads: 32, kvHeads: 4, headDim: 128,
      vocab: 151936}), expert_count: u32(128), expert_used_count: u32(8), expert_feed_forward_length: u32(768)}},
  {name: "qwen3-next-80b-a3b", model: "Qwen3-Next-80B-A3B-Instruct", arch: "qwen3next", untied: true,
    ctx: kLongCtx,
    // Gated DeltaNet layers: the fused qkv and gate projections (the loader
    // also accepts a legacy ssm_in, so it asks for neither).
    extraTensors: Array.from({length: 48}, (_, i) => i).filter((i) => i % 4 !== 3).flatMap((i) => [
      {name: `blk.${i}.attn_qkv.weight`, shape: [2048, 8192]}, {name: `blk.${i}.attn_gate.weight`, shape: [2048, 4096]}]),
    kv: {...llamaLike({layers: 48, ctx: 262144, embd: 2048, ff: 5120, heads: 16, kvHeads: 2, headDim: 256,
      ropeDim: 64, vocab: 151936}), expert_count: u32(512), expert_used_count: u32(10),
      expert_feed_forward_length: u32(512), expert_shared_feed_forward_length: u32(512),
      full_attention_interval: u32(4), "ssm.conv_kernel": u32(4), "ssm.state_size": u32(128),
      "ssm.group_count": u32(16), "ssm.time_step_rank": u32(32), "ssm.inner_size": u32(4096)}},
  {name: "gemma2-9b", model: "gemma-2-9b-it", arch: "gemma2", untied: false, ctx: [2048, 4096, 8192],
    kv: {...llamaLike({layers: 42, ctx: 8192, embd: 3584, ff: 14336, heads: 16, kvHeads: 8, headDim: 256,
      vocab: 256000, ropeBase: 10000}), "attention.sliding_window": u32(4096),
      "attn_logit_softcapping": f32(50), "final_logit_softcapping": f32(30)}},
  {name: "gemma3-12b", model: "gemma-3-12b-it", arch: "gemma3", untied: false, ctx: kLongCtx,
    kv: {...llamaLike({layers: 48, ctx: 131072, embd: 3840, ff: 15360, heads: 16, kvHeads: 8, headDim: 256,
      vocab: 262208}), "attention.sliding_window": u32(1024)}},
  {name: "gemma3n-e4b", model: "gemma-3n-E4B-it", arch: "gemma3n", untied: false, ctx: [4096, 16384, 32768],
    kv: {...llamaLike({layers: 35, ctx: 32768, embd: 2048, ff: 16384, heads: 8, kvHeads: 2, headDim: 256,
      vocab: 262400}), "attention.sliding_window": u32(512), "attention.shared_kv_layers": u32(15),
      embedding_length_per_layer_input: u32(256), altup_active_idx: u32(0), altup_num_inputs: u32(4),
      laurel_rank: u32(64), "activation_sparsity_scale": {t: "arr", of: "f32", v: Array(35).fill(0)},
      "attention.sliding_window_pattern": arrBool(Array.from({length: 35}, (_, i) => i % 5 < 4))}},
  {name: "phi3.5-mini", model: "Phi-3.5-mini-instruct", arch: "phi3", untied: true, ctx: kLongCtx,
    // Fused attention projection, as the conversion writes it (q/k/v are the alternative).
    extraTensors: Array.from({length: 32}, (_, i) => ({name: `blk.${i}.attn_qkv.weight`, shape: [3072, 9216]})),
    kv: {...llamaLike({layers: 32, ctx: 131072, embd: 3072, ff: 8192, heads: 32, kvHeads: 32, headDim: 96,
      vocab: 32064, eps: 1e-5, ropeBase: 10000}), "rope.scaling.original_context_length": u32(4096),
      "rope.scaling.attn_factor": f32(1.19), "attention.sliding_window": u32(262144)}},
  {name: "ministral3-8b", model: "Ministral-3-8B-Instruct-2512", arch: "mistral3", untied: true, ctx: kLongCtx,
    kv: llamaLike({layers: 34, ctx: 262144, embd: 4096, ff: 14336, heads: 32, kvHeads: 8, headDim: 128,
      vocab: 131072, eps: 1e-5})},
  {name: "mistral-small3.2-24b", model: "Mistral-Small-3.2-24B-Instruct-2506", arch: "llama", untied: true,
    ctx: kLongCtx,
    kv: llamaLike({layers: 40, ctx: 131072, embd: 5120, ff: 32768, heads: 32, kvHeads: 8, headDim: 128,
      vocab: 131072, eps: 1e-5, ropeBase: 1e9})},
  {name: "gpt-oss-20b", model: "gpt-oss-20b", arch: "gpt-oss", untied: true, ctx: kLongCtx,
    kv: {...llamaLike({layers: 24, ctx: 131072, embd: 2880, ff: 2880, heads: 64, kvHeads: 8, headDim: 64,
      vocab: 201088, eps: 1e-5, ropeBase: 150000}), expert_count: u32(32), expert_used_count: u32(4),
      expert_feed_forward_length: u32(2880), "attention.sliding_window": u32(128),
      "rope.scaling.factor": f32(32), "rope.scaling.original_context_length": u32(4096)}},
  {name: "deepseek-v2-lite", model: "DeepSeek-V2-Lite-Chat (MLA)", arch: "deepseek2", untied: true, ctx: kLongCtx,
    kv: {block_count: u32(27), context_length: u32(163840), embedding_length: u32(2048),
      feed_forward_length: u32(10944), "attention.head_count": u32(16), "attention.head_count_kv": u32(1),
      "attention.key_length": u32(576), "attention.value_length": u32(512),
      "attention.key_length_mla": u32(192), "attention.value_length_mla": u32(128),
      "attention.kv_lora_rank": u32(512), "rope.dimension_count": u32(64),
      "attention.layer_norm_rms_epsilon": f32(1e-6), "rope.freq_base": f32(10000),
      leading_dense_block_count: u32(1), expert_count: u32(64), expert_used_count: u32(6),
      expert_feed_forward_length: u32(1408), expert_shared_count: u32(2), expert_weights_scale: f32(1),
      vocab_size: u32(102400)}},
  {name: "glm4.5-air", model: "GLM-4.5-Air", arch: "glm4moe", untied: true, ctx: kLongCtx,
    kv: {...llamaLike({layers: 46, ctx: 131072, embd: 4096, ff: 10944, heads: 96, kvHeads: 8, headDim: 128,
      ropeDim: 64, vocab: 151552, eps: 1e-5}), expert_count: u32(128), expert_used_count: u32(8),
      expert_feed_forward_length: u32(1408), expert_shared_count: u32(1), leading_dense_block_count: u32(1),
      expert_weights_scale: f32(1), expert_weights_norm: bool(true), expert_gating_func: u32(2)}},
  {name: "granite4.0-h-tiny", model: "granite-4.0-h-tiny", arch: "granitehybrid", untied: false, ctx: kLongCtx,
    // ffn_gate_exps is optional to llama.cpp's loader but present in the real files.
    // So is the Mamba2 layers' conv bias, which the graph adds unconditionally.
    extraTensors: Array.from({length: 40}, (_, i) => [{name: `blk.${i}.ffn_gate_exps.weight`, shape: [1536, 512, 64]},
      ...([5, 15, 25, 35].includes(i) ? [] : [{name: `blk.${i}.ssm_conv1d.bias`, shape: [3328]}])]).flat(),
    kv: {...llamaLike({layers: 40, ctx: 131072, embd: 1536, ff: 512, heads: 12, headDim: 128, vocab: 100352,
      kvHeads: Array.from({length: 40}, (_, i) => ([5, 15, 25, 35].includes(i) ? 4 : 0))}),
      expert_count: u32(64), expert_used_count: u32(6), expert_feed_forward_length: u32(512),
      expert_shared_feed_forward_length: u32(1024), "ssm.conv_kernel": u32(4), "ssm.state_size": u32(128),
      "ssm.group_count": u32(1), "ssm.time_step_rank": u32(48), "ssm.inner_size": u32(3072),
      embedding_scale: f32(12), residual_scale: f32(0.22), attention_scale: f32(0.0078125),
      logit_scale: f32(6)}},
  {name: "lfm2-1.2b", model: "LFM2-1.2B", arch: "lfm2", untied: false, ctx: [4096, 32768, 128000],
    kv: {...llamaLike({layers: 16, ctx: 128000, embd: 2048, ff: 8192, heads: 32, headDim: 64, vocab: 65536,
      eps: 1e-5, kvHeads: Array.from({length: 16}, (_, i) => ([2, 5, 8, 10, 12, 14].includes(i) ? 8 : 0))}),
      "shortconv.l_cache": u32(3)}},
  {name: "llama4-scout", model: "Llama-4-Scout-17B-16E-Instruct", arch: "llama4", untied: true, ctx: kLongCtx,
    kv: {...llamaLike({layers: 48, ctx: 10485760, embd: 5120, ff: 16384, heads: 40, kvHeads: 8, headDim: 128,
      vocab: 202048, eps: 1e-5, ropeBase: 500000}), expert_count: u32(16), expert_used_count: u32(1),
      expert_feed_forward_length: u32(8192), interleave_moe_layer_step: u32(1)}},
  {name: "command-r7b", model: "c4ai-command-r7b-12-2024", arch: "cohere2", untied: false, ctx: kLongCtx,
    kv: {...llamaLike({layers: 32, ctx: 131072, embd: 4096, ff: 14336, heads: 32, kvHeads: 8, headDim: 128,
      vocab: 256000, ropeBase: 50000}), "attention.sliding_window": u32(4096), logit_scale: f32(0.25),
      "attention.layer_norm_epsilon": f32(1e-5)}},
  {name: "olmo2-7b", model: "OLMo-2-1124-7B-Instruct", arch: "olmo2", untied: true, ctx: [1024, 2048, 4096],
    kv: llamaLike({layers: 32, ctx: 4096, embd: 4096, ff: 11008, heads: 32, kvHeads: 32, headDim: 128,
      vocab: 100352, ropeBase: 500000})},
  {name: "bge-m3", model: "bge-m3 (XLM-RoBERTa embedding)", arch: "bert", untied: false, ctx: [512, 2048, 8192],
    kv: {block_count: u32(24), context_length: u32(8192), embedding_length: u32(1024),
      feed_forward_length: u32(4096), "attention.head_count": u32(16), "attention.layer_norm_epsilon": f32(1e-5),
      "attention.causal": bool(false), pooling_type: u32(2), vocab_size: u32(250002)},
    extraKv: [["tokenizer.ggml.token_type_count", u32(1)]]},
];

// The architectures the estimator is checked against (the tiny models' llama,
// gemma2 and qwen3moe are among them). src/estimate's
// checked_architectures() must list the same; estimate_real_accuracy.mjs
// asserts that every family here is reported as checked.
export function checkedArchitectures() {
  return [...new Set(families.map((f) => f.arch))].sort();
}
