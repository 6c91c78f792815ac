// jepa/models/vjepa2_ac_predictor.hpp: the V-JEPA 2-AC action-conditioned
// predictor, kind "vjepa2.ac_predictor" (vjepa2 src/models/ac_predictor.py,
// modules.py ACBlock / ACRoPEAttention; ARCHITECTURE.md §3). Per step t the
// tokens [a_t, s_t, (e_t), patches of frame t], pre-norm blocks with
// block-causal attention over whole steps, 3D RoPE on patches (t = absolute
// step, w scaled by gh/gw), t-only RoPE on conditioning tokens; then drop the
// conditioning tokens, predictor_norm, predictor_proj. Built around a KV cache
// (exact: a step never sees later steps, RoPE uses absolute steps), optionally
// on a batch-1 prefix cache shared by all sequences (a planner's context);
// teacher forcing is "all steps at once into an empty cache".
#ifndef JEPA_MODELS_VJEPA2_AC_PREDICTOR_HPP
#define JEPA_MODELS_VJEPA2_AC_PREDICTOR_HPP

#include "../ops/attention.hpp"
#include "../ops/layernorm.hpp"
#include "../ops/rope.hpp"
#include "vit_block.hpp"

namespace jepa {
namespace models {

struct AcPredictorConfig {
  int64_t embed_dim = 0;       // D_enc: latent width (input and output)
  int64_t pred_embed_dim = 0;  // P: predictor width
  int64_t depth = 0;           // blocks
  int64_t num_heads = 0;       // head_dim = P / heads
  int64_t mlp_hidden = 0;      // fc1 width, int(P * mlp_ratio)
  int64_t patch_size = 16;     // pixels (grid arithmetic only)
  int64_t tubelet_size = 2;    // frames per step
  int64_t num_frames = 64;     // the official mask covers num_frames/tubelet steps (informational here)
  int64_t img_height = 256;    // pixels; gh = img_height / patch_size
  int64_t img_width = 256;     // pixels; gw = img_width / patch_size
  double norm_eps = 1e-6;      // every LayerNorm
  bool qkv_bias = true;
  int64_t action_dim = 7;      // action and state width; extrinsics are action_dim - 1 wide
  bool use_extrinsics = false; // a third conditioning token per step
  bool frame_causal = true;    // block-causal mask (false: every token attends to every token)

  static constexpr const char* kKind = "vjepa2.ac_predictor";

  int64_t head_dim() const { return pred_embed_dim / num_heads; }
  int64_t grid_h() const { return img_height / patch_size; }
  int64_t grid_w() const { return img_width / patch_size; }
  int64_t patches_per_step() const { return grid_h() * grid_w(); }              // HW
  int64_t cond_tokens() const { return use_extrinsics ? 3 : 2; }               // a, s, (e)
  int64_t tokens_per_step() const { return cond_tokens() + patches_per_step(); }
  int64_t max_mask_steps() const { return num_frames / tubelet_size; }
  // A run-time choice, never read from the file: the arithmetic attention
  // may use (kernels::AttnMath). automatic: bf16 where the weights are not f32
  // and the CPU has a faster tile for it (models::attention_math_for).
  kernels::AttnMath attention = kernels::AttnMath::automatic;

  VitBlockDims block_dims() const { return VitBlockDims{pred_embed_dim, num_heads, mlp_hidden, qkv_bias, attention}; }

  Status validate() const {
    JEPA_RETURN_IF_ERROR(detail::validate_vit_dims(kKind, pred_embed_dim, depth, num_heads, mlp_hidden, norm_eps));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.ac_predictor embed_dim", embed_dim));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.ac_predictor patch_size", patch_size, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.ac_predictor tubelet_size", tubelet_size, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.ac_predictor num_frames", num_frames));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.ac_predictor img_height", img_height, patch_size));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.ac_predictor img_width", img_width, patch_size));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.ac_predictor action_dim", action_dim, 2, 4096));
    return Status::ok();
  }

  static Result<AcPredictorConfig> from_file(const ModelFile& f) {
    AcPredictorConfig c;
    const int64_t big = detail::kMaxDim;
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "embed_dim", 1, big, &c.embed_dim));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "pred_embed_dim", 1, big, &c.pred_embed_dim));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "depth", 1, kMaxDepth, &c.depth));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "num_heads", 1, big, &c.num_heads));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "mlp_hidden", 1, big, &c.mlp_hidden));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "patch_size", 1, 4096, &c.patch_size));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "tubelet_size", 1, 4096, &c.tubelet_size));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "num_frames", 1, big, &c.num_frames));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "img_height", 1, big, &c.img_height));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "img_width", 1, big, &c.img_width));
    JEPA_RETURN_IF_ERROR(detail::read_positive_float(f, "norm_eps", &c.norm_eps));
    JEPA_RETURN_IF_ERROR(detail::read_bool_or(f, "qkv_bias", true, &c.qkv_bias));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "action_dim", 2, 4096, &c.action_dim));
    JEPA_RETURN_IF_ERROR(detail::read_bool_or(f, "use_extrinsics", false, &c.use_extrinsics));
    JEPA_RETURN_IF_ERROR(detail::read_bool_or(f, "frame_causal", true, &c.frame_causal));
    JEPA_RETURN_IF_ERROR(c.validate());
    return c;
  }

  void write_hparams(format::Writer& w) const {
    w.add_int("embed_dim", embed_dim);
    w.add_int("pred_embed_dim", pred_embed_dim);
    w.add_int("depth", depth);
    w.add_int("num_heads", num_heads);
    w.add_int("mlp_hidden", mlp_hidden);
    w.add_int("patch_size", patch_size);
    w.add_int("tubelet_size", tubelet_size);
    w.add_int("num_frames", num_frames);
    w.add_int("img_height", img_height);
    w.add_int("img_width", img_width);
    w.add_float("norm_eps", norm_eps);
    w.add_int("qkv_bias", qkv_bias ? 1 : 0);
    w.add_int("action_dim", action_dim);
    w.add_int("use_extrinsics", use_extrinsics ? 1 : 0);
    w.add_int("frame_causal", frame_causal ? 1 : 0);
  }
};

// Every tensor the AC predictor reads (official keys without "predictor.").
// extrinsics_encoder is in every checkpoint, used or not, so it is required.
template <class Visit>
void for_each_tensor(const AcPredictorConfig& c, Visit&& visit) {
  const int64_t D = c.embed_dim, P = c.pred_embed_dim, A = c.action_dim;
  const int64_t embed[2] = {P, D}, act[2] = {P, A}, ext[2] = {P, A - 1}, proj[2] = {D, P};
  const int64_t vp[1] = {P}, vd[1] = {D};
  const TensorRole W = TensorRole::weight_matrix, V = TensorRole::vector;
  visit("predictor_embed.weight", embed, 2, W);
  visit("predictor_embed.bias", vp, 1, V);
  visit("action_encoder.weight", act, 2, W);
  visit("action_encoder.bias", vp, 1, V);
  visit("state_encoder.weight", act, 2, W);
  visit("state_encoder.bias", vp, 1, V);
  visit("extrinsics_encoder.weight", ext, 2, W);
  visit("extrinsics_encoder.bias", vp, 1, V);
  for (int i = 0; i < (int)c.depth; ++i) for_each_vit_block_tensor("predictor_blocks.", i, c.block_dims(), visit);
  visit("predictor_norm.weight", vp, 1, V);
  visit("predictor_norm.bias", vp, 1, V);
  visit("predictor_proj.weight", proj, 2, W);
  visit("predictor_proj.bias", vd, 1, V);
}

struct AcPredictorWeights {
  kernels::WeightMatrix embed;        // [P][D_enc]
  const float* embed_b = nullptr;     // [P]
  kernels::WeightMatrix action;       // [P][A]
  const float* action_b = nullptr;
  kernels::WeightMatrix state;        // [P][A]
  const float* state_b = nullptr;
  kernels::WeightMatrix extrinsics;   // [P][A-1]
  const float* extrinsics_b = nullptr;
  VitBlockWeights blocks[kMaxDepth];
  const float* norm_w = nullptr;      // [P]
  const float* norm_b = nullptr;
  kernels::WeightMatrix proj;         // [D_enc][P]
  const float* proj_b = nullptr;      // [D_enc]

  static Result<AcPredictorWeights> bind(const ModelFile& f, const AcPredictorConfig& c) {
    JEPA_RETURN_IF_ERROR(c.validate());
    detail::TensorChecker check{&f, Status::ok()};
    for_each_tensor(c, check);
    JEPA_RETURN_IF_ERROR(check.status);
    AcPredictorWeights w;
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "predictor_embed.weight", &w.embed));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_embed.bias", &w.embed_b));
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "action_encoder.weight", &w.action));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "action_encoder.bias", &w.action_b));
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "state_encoder.weight", &w.state));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "state_encoder.bias", &w.state_b));
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "extrinsics_encoder.weight", &w.extrinsics));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "extrinsics_encoder.bias", &w.extrinsics_b));
    for (int i = 0; i < (int)c.depth; ++i)
      JEPA_RETURN_IF_ERROR(bind_vit_block(f, "predictor_blocks.", i, c.block_dims(), &w.blocks[i]));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_norm.weight", &w.norm_w));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_norm.bias", &w.norm_b));
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "predictor_proj.weight", &w.proj));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_proj.bias", &w.proj_b));
    return w;
  }
};

// ---------------------------------------------------------------------------
// KV cache

// K (after RoPE) and V of every layer for `batch` sequences, steps
// [first_step, first_step + capacity_steps), stored as f32, f16 or q8
// (ops/kv_dtype.hpp: q8 has one scale per row and head). Memory comes from an
// arena (ac_kv_cache_init). With a prefix, steps [0, first_step) are read
// from the prefix cache (batch 1, shared by all sequences; its dtype may
// differ) and first_step is the prefix's steps_cached at init time; the
// prefix must not change while this cache is used (forward_steps checks it).
// A step's queries attend to their own step's K/V as computed (f32); steps
// after it read them from the cache, in its dtype.
struct AcKvCache {
  int64_t batch = 0;            // sequences
  int64_t capacity_steps = 0;   // own steps this cache can hold
  int64_t tokens_per_step = 0;  // cond_tokens + HW of the config it was made for
  int64_t width = 0;            // P
  int64_t heads = 0;            // q8: scales per row
  int64_t depth = 0;            // layers
  int64_t first_step = 0;       // absolute step of own row 0
  int64_t steps_cached = 0;     // absolute: steps [0, steps_cached) are valid (prefix + own)
  ops::KvDtype dtype = ops::KvDtype::f32;
  void* k = nullptr;            // [depth][batch][capacity_steps * tokens_per_step][width] of dtype
  void* v = nullptr;            // same layout
  float* k_scale = nullptr;     // q8: [depth][batch][capacity_steps * tokens_per_step][heads]
  float* v_scale = nullptr;
  const AcKvCache* prefix = nullptr;

  int64_t rows_per_seq() const { return capacity_steps * tokens_per_step; }
  size_t layer_elems() const { return (size_t)(batch * rows_per_seq() * width); }
  size_t layer_scales() const { return (size_t)(batch * rows_per_seq() * heads); }
  void* k_layer(int l) const { return static_cast<uint8_t*>(k) + (size_t)l * layer_elems() * ops::kv_elem_bytes(dtype); }
  void* v_layer(int l) const { return static_cast<uint8_t*>(v) + (size_t)l * layer_elems() * ops::kv_elem_bytes(dtype); }
  float* k_scale_layer(int l) const { return k_scale ? k_scale + (size_t)l * layer_scales() : nullptr; }
  float* v_scale_layer(int l) const { return v_scale ? v_scale + (size_t)l * layer_scales() : nullptr; }
  // Layer l's own rows as an attention segment (the first `rows` rows of each sequence).
  ops::KvSegment segment(int l, int64_t rows) const {
    ops::KvSegment seg;
    seg.k = k_layer(l);
    seg.v = v_layer(l);
    seg.ld = (size_t)width;
    seg.batch_stride = batch > 1 ? (size_t)(rows_per_seq() * width) : 0;
    seg.rows = rows;
    seg.first_step = first_step;
    seg.dtype = dtype;
    seg.k_scale = k_scale_layer(l);
    seg.v_scale = v_scale_layer(l);
    seg.ld_scale = (size_t)heads;
    seg.scale_batch_stride = batch > 1 ? (size_t)(rows_per_seq() * heads) : 0;
    return seg;
  }
  // Row r of sequence b, layer l, K (values = false) or V: its bytes and q8 scales.
  void* row_data(int l, bool values, int64_t b, int64_t r) const {
    return static_cast<uint8_t*>(values ? v_layer(l) : k_layer(l)) +
           (size_t)(b * rows_per_seq() + r) * (size_t)width * ops::kv_elem_bytes(dtype);
  }
  float* row_scales(int l, bool values, int64_t b, int64_t r) const {
    float* s = values ? v_scale_layer(l) : k_scale_layer(l);
    return s ? s + (size_t)(b * rows_per_seq() + r) * (size_t)heads : nullptr;
  }
  // Stores that row from `width` floats / reads it back as floats.
  void store(int l, bool values, int64_t b, int64_t r, const float* x) const {
    ops::kv_encode_row(dtype, x, heads, width / heads, row_data(l, values, b, r), row_scales(l, values, b, r));
  }
  void load(int l, bool values, int64_t b, int64_t r, float* x) const {
    const int64_t hd = width / heads;
    const float* sc = row_scales(l, values, b, r);
    for (int64_t h = 0; h < heads; ++h)
      ops::kv_decode_head_rows(dtype, static_cast<const uint8_t*>(row_data(l, values, b, r)) +
                                          (size_t)(h * hd) * ops::kv_elem_bytes(dtype),
                               0, sc ? sc + h : nullptr, 0, 1, (int32_t)hd, x + h * hd, 0);
  }
  // Forget own steps (keep the prefix): a planner's next batch of candidates.
  void rewind() { steps_cached = first_step; }
};

inline size_t ac_kv_cache_elems(const AcPredictorConfig& c, int64_t batch, int64_t capacity_steps) {
  return (size_t)(c.depth * batch * capacity_steps * c.tokens_per_step() * c.pred_embed_dim);
}

namespace detail {

// The cache's arena blocks, in order (measure and init share it).
inline void alloc_ac_kv_cache(Arena& arena, const AcPredictorConfig& c, int64_t batch, int64_t capacity_steps,
                              ops::KvDtype dtype, AcKvCache* k) {
  const size_t n = ac_kv_cache_elems(c, batch, capacity_steps);
  k->k = arena.alloc<uint8_t>(n * ops::kv_elem_bytes(dtype));
  k->v = arena.alloc<uint8_t>(n * ops::kv_elem_bytes(dtype));
  if (dtype == ops::KvDtype::q8) {
    const size_t s = (size_t)(c.depth * batch * capacity_steps * c.tokens_per_step() * c.num_heads);
    k->k_scale = arena.alloc<float>(s);
    k->v_scale = arena.alloc<float>(s);
  }
}

}  // namespace detail

// Arena bytes of one cache (K and V, q8 scales), including alignment padding.
inline size_t ac_kv_cache_bytes(const AcPredictorConfig& c, int64_t batch, int64_t capacity_steps,
                                ops::KvDtype dtype = ops::KvDtype::f32) {
  Arena measure;
  AcKvCache k;
  detail::alloc_ac_kv_cache(measure, c, batch, capacity_steps, dtype, &k);
  return measure.peak();
}

inline Status ac_kv_cache_init(AcKvCache* cache, const AcPredictorConfig& c, Arena& arena, int64_t batch,
                               int64_t capacity_steps, const AcKvCache* prefix = nullptr,
                               ops::KvDtype dtype = ops::KvDtype::f32) {
  if (batch < 1 || capacity_steps < 1)
    return Status::error(Error::invalid_argument, "AcKvCache: batch %lld and capacity %lld steps must be >= 1",
                         (long long)batch, (long long)capacity_steps);
  if (prefix != nullptr && (prefix->batch != 1 || prefix->tokens_per_step != c.tokens_per_step() ||
                            prefix->width != c.pred_embed_dim || prefix->depth != c.depth))
    return Status::error(Error::invalid_argument,
                         "AcKvCache: a prefix cache must have batch 1 and this config's sizes (it has batch %lld)",
                         (long long)prefix->batch);
  if (dtype != ops::KvDtype::f32 && dtype != ops::KvDtype::f16 && dtype != ops::KvDtype::q8)
    return Status::error(Error::invalid_argument, "AcKvCache: unknown K/V dtype %d", (int)dtype);
  AcKvCache k;
  k.batch = batch;
  k.capacity_steps = capacity_steps;
  k.tokens_per_step = c.tokens_per_step();
  k.width = c.pred_embed_dim;
  k.heads = c.num_heads;
  k.depth = c.depth;
  k.dtype = dtype;
  k.prefix = prefix;
  k.first_step = prefix ? prefix->steps_cached : 0;
  k.steps_cached = k.first_step;
  detail::alloc_ac_kv_cache(arena, c, batch, capacity_steps, dtype, &k);
  JEPA_RETURN_IF_ERROR(detail::check_arena(arena, "AcKvCache"));
  *cache = k;
  return Status::ok();
}

namespace detail {

struct AcStepsScratch {
  float* x = nullptr;      // [B * n*tps][P]: the interleaved token sequence
  float* tmp = nullptr;    // [B * n*HW][P]: patch embeddings, then the normed outputs
  float* cond = nullptr;   // [B * n][P]: one conditioning embedding at a time
  float* rope = nullptr;   // [n*tps][rope floats]: positions are the same for every sequence
  VitBlockScratch block;
};

// total_steps: keys visible to the last new step = first_step + n_steps.
inline AcStepsScratch plan_ac_steps(Arena& a, const AcPredictorConfig& c, int64_t batch, int64_t n_steps,
                                    int64_t total_steps) {
  const int64_t P = c.pred_embed_dim, tps = c.tokens_per_step(), hw = c.patches_per_step();
  AcStepsScratch s;
  s.x = a.alloc<float>((size_t)(batch * n_steps * tps * P));
  s.tmp = a.alloc<float>((size_t)(batch * n_steps * hw * P));
  s.cond = a.alloc<float>((size_t)(batch * n_steps * P));
  s.rope = a.alloc<float>((size_t)(n_steps * tps * ops::rope_token_floats(c.head_dim())));
  s.block = plan_vit_block_scratch(a, batch, n_steps * tps, total_steps * tps, c.block_dims());
  return s;
}

inline Status check_ac_steps(const AcPredictorConfig& c, const AcKvCache& cache, int64_t first_step,
                             int64_t n_steps, bool append, const float* latents, const float* actions,
                             const float* states, const float* extrinsics) {
  if (cache.k == nullptr || cache.tokens_per_step != c.tokens_per_step() || cache.width != c.pred_embed_dim ||
      cache.depth != c.depth)
    return Status::error(Error::invalid_argument,
                         "vjepa2.ac_predictor: the KV cache was not made for this config (tokens/step %lld vs %lld)",
                         (long long)cache.tokens_per_step, (long long)c.tokens_per_step());
  if (cache.prefix != nullptr && cache.prefix->steps_cached != cache.first_step)
    return Status::error(Error::invalid_argument,
                         "vjepa2.ac_predictor: the prefix cache holds %lld steps, this cache was built on %lld",
                         (long long)cache.prefix->steps_cached, (long long)cache.first_step);
  if (n_steps < 1 || first_step < cache.first_step || first_step > cache.steps_cached)
    return Status::error(Error::invalid_argument,
                         "vjepa2.ac_predictor: steps [%lld, +%lld) do not continue the cache (own steps from "
                         "%lld, %lld cached)",
                         (long long)first_step, (long long)n_steps, (long long)cache.first_step,
                         (long long)cache.steps_cached);
  if ((append ? first_step + n_steps : first_step) - cache.first_step > cache.capacity_steps)
    return Status::error(Error::out_of_memory, "vjepa2.ac_predictor: steps up to %lld exceed the cache's %lld",
                         (long long)(first_step + n_steps), (long long)(cache.first_step + cache.capacity_steps));
  if (latents == nullptr || actions == nullptr || states == nullptr || (c.use_extrinsics && extrinsics == nullptr))
    return Status::error(Error::invalid_argument,
                         "vjepa2.ac_predictor: latents, actions, states%s are required",
                         c.use_extrinsics ? " and extrinsics (use_extrinsics)" : "");
  return Status::ok();
}

// Embeds the new steps into the interleaved sequence s.x and fills the RoPE tables.
inline void ac_embed_steps(const AcPredictorWeights& w, const AcPredictorConfig& c, const ParallelFor& par,
                           int64_t batch, int64_t first_step, int64_t n, const float* latents,
                           const float* actions, const float* states, const float* extrinsics,
                           const AcStepsScratch& s, const ForwardObserver& obs, bool shared) {
  const int64_t P = c.pred_embed_dim, tps = c.tokens_per_step(), hw = c.patches_per_step();
  const int64_t nc = c.cond_tokens(), B = batch;
  if (shared) {  // every sequence has sequence 0's patches: embed them once
    ops::linear(par, w.embed, w.embed_b, latents, (int32_t)(n * hw), s.tmp);
    for (int64_t b = 1; b < B; ++b) std::memcpy(s.tmp + b * n * hw * P, s.tmp, (size_t)(n * hw * P) * 4);
  } else {
    ops::linear(par, w.embed, w.embed_b, latents, (int32_t)(B * n * hw), s.tmp);
  }
  obs("predictor_embed", 0, s.tmp, B * n * hw, P);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < n; ++t)
      std::memcpy(s.x + ((b * n + t) * tps + nc) * P, s.tmp + (b * n + t) * hw * P, (size_t)(hw * P) * 4);
  // Conditioning tokens in the official order: action, state, (extrinsics).
  const kernels::WeightMatrix* enc[3] = {&w.action, &w.state, &w.extrinsics};
  const float* bias[3] = {w.action_b, w.state_b, w.extrinsics_b};
  const float* src[3] = {actions, states, extrinsics};
  for (int64_t k = 0; k < nc; ++k) {
    ops::linear(par, *enc[k], bias[k], src[k], (int32_t)(B * n), s.cond);
    for (int64_t r = 0; r < B * n; ++r) std::memcpy(s.x + (r * tps + k) * P, s.cond + r * P, (size_t)P * 4);
  }
  // Positions: t = absolute step; h, w scaled by grid_size/H = 1 and grid_size/W = gh/gw
  // (ACRoPEAttention "snap spatial positions to grid size", grid_size = gh).
  const int64_t rs = ops::rope_token_floats(c.head_dim()), gw = c.grid_w();
  const double w_scale = (double)c.grid_h() / (double)gw;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < tps; ++r) {
      const double step = (double)(first_step + t);
      const int64_t p = r - nc;  // patch index within the frame, < 0 for conditioning tokens
      const double hh = p < 0 ? 0.0 : (double)(p / gw), ww = p < 0 ? 0.0 : (double)(p % gw) * w_scale;
      ops::rope_fill_token(s.rope + (t * tps + r) * rs, c.head_dim(), step, hh, ww);
    }
}

// The first block's LN1 + qkv when every sequence's inputs but the actions
// are sequence 0's (AcStepOptions::shared_inputs, one step): rows are
// independent until attention, so sequence 0's rows are computed once and
// copied, then only the action rows (row 0 of each other sequence) are
// normed and projected, gathered through s.tmp (free after the embedding:
// it holds B*HW*P >= 4*(B-1)*P floats when HW >= 4, checked by the caller).
inline void ac_qkv_shared_first_block(const ParallelFor& par, const VitBlockWeights& w, const VitBlockDims& d,
                                      float eps, int64_t batch, int64_t tps, const AcStepsScratch& s) {
  const int64_t P = d.dim, row3 = 3 * P;
  vit_qkv(par, w, d, eps, s.x, tps, s.block);
  float* qkv = s.block.qkv;
  for (int64_t b = 1; b < batch; ++b) std::memcpy(qkv + b * tps * row3, qkv, (size_t)(tps * row3) * 4);
  float* normed = s.tmp;                     // [batch-1][P]
  float* out = s.tmp + (batch - 1) * P;      // [batch-1][3P]
  // layernorm_rows, not layernorm_row: the row kernel vit_qkv's LayerNorm runs.
  for (int64_t b = 1; b < batch; ++b)
    ops::layernorm_rows(s.x + b * tps * P, (size_t)P, normed + (b - 1) * P, (size_t)P, 1, P, w.norm1_w, w.norm1_b, eps);
  ops::linear(par, w.qkv, w.qkv_b, normed, (int32_t)(batch - 1), out);
  for (int64_t b = 1; b < batch; ++b) std::memcpy(qkv + b * tps * row3, out + (b - 1) * row3, (size_t)row3 * 4);
}

// One layer's attention: RoPE on the new rows, attend to prefix + cached own
// steps + the new steps (their K/V read straight from the qkv buffer), then
// append the new K/V to the cache unless told not to.
inline void ac_attention_layer(const AcPredictorConfig& c, const ParallelFor& par, AcKvCache& cache, int l,
                               int64_t batch, int64_t first_step, int64_t n, bool append, kernels::AttnMath math,
                               const AcStepsScratch& s) {
  const int64_t P = c.pred_embed_dim, tps = c.tokens_per_step(), nc = c.cond_tokens(), hd = c.head_dim();
  const int64_t rows = n * tps, rs = ops::rope_token_floats(hd);
  float* qkv = s.block.qkv;
  detail::for_row_chunks(par, batch * rows, [&](int64_t r0, int64_t r1) {
    for (int64_t br = r0; br < r1; ++br) {
      const int64_t r = br % rows;  // row within its sequence: the tables are per row
      ops::rope_apply_qk(qkv + br * 3 * P, c.num_heads, hd, s.rope + r * rs, (r % tps) < nc ? 1 : 3);
    }
  });
  const int64_t own0 = (first_step - cache.first_step) * tps;  // own cached rows before the new ones
  ops::AttentionArgs a;
  a.batch = batch;
  a.heads = c.num_heads;
  a.head_dim = hd;
  a.nq = rows;
  a.q = qkv;
  a.ldq = (size_t)(3 * P);
  a.q_batch_stride = (size_t)(rows * 3 * P);
  a.n_kv = 0;
  if (cache.prefix != nullptr && cache.first_step > 0) {
    const AcKvCache& pre = *cache.prefix;
    ops::KvSegment& seg = a.kv[a.n_kv++];
    seg = pre.segment(l, (pre.steps_cached - pre.first_step) * tps);
    seg.batch_stride = 0;  // shared by every sequence
    seg.scale_batch_stride = 0;
  }
  if (own0 > 0) a.kv[a.n_kv++] = cache.segment(l, own0);
  ops::KvSegment& fresh = a.kv[a.n_kv++];
  fresh.k = qkv + P;
  fresh.v = qkv + 2 * P;
  fresh.ld = (size_t)(3 * P);
  fresh.batch_stride = (size_t)(rows * 3 * P);
  fresh.rows = rows;
  fresh.first_step = first_step;
  a.out = s.block.attn_out;
  a.ldo = (size_t)P;
  a.out_batch_stride = (size_t)(rows * P);
  a.scale = 1.0f / std::sqrt((float)hd);
  a.step_tokens = c.frame_causal ? tps : 0;
  a.q_first_step = first_step;
  a.math = math;
  ops::attention(par, a, s.block.scores);
  if (!append) return;
  detail::for_row_chunks(par, batch * rows, [&](int64_t r0, int64_t r1) {
    for (int64_t br = r0; br < r1; ++br) {
      const float* src = qkv + br * 3 * P;
      cache.store(l, false, br / rows, own0 + br % rows, src + P);
      cache.store(l, true, br / rows, own0 + br % rows, src + 2 * P);
    }
  });
}

}  // namespace detail

// Per-call options of ac_predictor_forward_steps.
struct AcStepOptions {
  // false: attend to the cache but leave it unchanged (no K/V written,
  // steps_cached kept): the last step of a planner's horizon, which nothing
  // attends to later. Needs no cache room for the new steps.
  bool append_to_cache = true;
  // The caller promises that, for a one-step call, every sequence's latents
  // and states (and extrinsics) equal sequence 0's; only the actions differ
  // (a planner's first horizon step: all candidates start from the current
  // frame). The patch embedding and the first block's qkv then run once for
  // the shared rows instead of once per sequence. Same results as without
  // (rows are independent until attention). Ignored for n_steps > 1.
  bool shared_inputs = false;
};

// Arena bytes of one ac_predictor_forward_steps call (scratch only; the cache
// is separate): `batch` sequences, n_steps new steps, total_steps = first_step
// + n_steps (every step the new ones may see, prefix included).
inline size_t ac_predictor_steps_arena_bytes(const AcPredictorConfig& c, int64_t batch, int64_t n_steps,
                                             int64_t total_steps) {
  Arena measure;
  detail::plan_ac_steps(measure, c, batch, n_steps, total_steps);
  return measure.peak();
}

// Runs steps [first_step, first_step + n_steps) for cache.batch sequences,
// attending to every cached step < first_step (prefix included) and to
// themselves (block-causally), appends their K/V and sets steps_cached =
// first_step + n_steps (unless opt.append_to_cache is false). first_step may
// be below steps_cached (re-running from there, e.g. new planner candidates)
// but not below cache.first_step.
// Inputs for the new steps only, per sequence b:
//   latents [B][n_steps*HW][D_enc], actions/states [B][n_steps][A],
//   extrinsics [B][n_steps][A-1] (only with use_extrinsics; else ignored).
// out: [B][n_steps*HW][D_enc], raw predictor output (no latent LayerNorm).
// Observer: "predictor_embed" [B*n*HW][P], "block" i [B*n*tps][P].
inline Status ac_predictor_forward_steps(const AcPredictorWeights& w, const AcPredictorConfig& c,
                                         const ParallelFor& par, Arena& arena, AcKvCache& cache, int64_t first_step,
                                         int64_t n_steps, const float* latents, const float* actions,
                                         const float* states, const float* extrinsics, float* out,
                                         const AcStepOptions& opt, const ForwardObserver& obs = ForwardObserver()) {
  JEPA_RETURN_IF_ERROR(detail::check_ac_steps(c, cache, first_step, n_steps, opt.append_to_cache, latents, actions,
                                              states, extrinsics));
  ArenaScope scope(arena);
  const int64_t B = cache.batch, n = n_steps;
  const detail::AcStepsScratch s = detail::plan_ac_steps(arena, c, B, n, first_step + n);
  JEPA_RETURN_IF_ERROR(detail::check_arena(arena, "vjepa2.ac_predictor"));
  const int64_t P = c.pred_embed_dim, tps = c.tokens_per_step(), hw = c.patches_per_step(), nc = c.cond_tokens();
  const float eps = (float)c.norm_eps;
  const VitBlockDims dims = c.block_dims();

  const bool shared = opt.shared_inputs && n == 1 && B > 1 && hw >= 4;
  detail::ac_embed_steps(w, c, par, B, first_step, n, latents, actions, states, extrinsics, s, obs, shared);
  for (int l = 0; l < (int)c.depth; ++l) {
    if (l == 0 && shared) detail::ac_qkv_shared_first_block(par, w.blocks[0], dims, eps, B, tps, s);
    else vit_qkv(par, w.blocks[l], dims, eps, s.x, B * n * tps, s.block);
    detail::ac_attention_layer(c, par, cache, l, B, first_step, n, opt.append_to_cache,
                               attention_math_for(c.attention, w.blocks[l].qkv), s);
    vit_attn_out_mlp(par, w.blocks[l], dims, eps, s.x, B * n * tps, s.block);
    obs("block", l, s.x, B * n * tps, P);
  }
  if (opt.append_to_cache) cache.steps_cached = first_step + n;
  // Drop the conditioning tokens, predictor_norm, predictor_proj.
  detail::for_row_chunks(par, B * n * hw, [&](int64_t r0, int64_t r1) {
    for (int64_t rr = r0; rr < r1; ++rr) {
      const int64_t step = rr / hw, patch = rr % hw;  // output row rr: patch of (sequence, step)
      ops::layernorm_rows(s.x + (step * tps + nc + patch) * P, (size_t)P, s.tmp + rr * P, (size_t)P, 1, P, w.norm_w,
                          w.norm_b, eps);
    }
  });
  ops::linear(par, w.proj, w.proj_b, s.tmp, (int32_t)(B * n * hw), out);
  return Status::ok();
}

inline Status ac_predictor_forward_steps(const AcPredictorWeights& w, const AcPredictorConfig& c,
                                         const ParallelFor& par, Arena& arena, AcKvCache& cache, int64_t first_step,
                                         int64_t n_steps, const float* latents, const float* actions,
                                         const float* states, const float* extrinsics, float* out,
                                         const ForwardObserver& obs = ForwardObserver()) {
  return ac_predictor_forward_steps(w, c, par, arena, cache, first_step, n_steps, latents, actions, states,
                                    extrinsics, out, AcStepOptions(), obs);
}

// Teacher forcing, the official forward(x, actions, states, extrinsics):
// `steps` steps of `batch` sequences at once, through a temporary cache.
inline size_t ac_predictor_arena_bytes(const AcPredictorConfig& c, int64_t batch, int64_t steps) {
  Arena measure;
  measure.allocate(ac_kv_cache_bytes(c, batch, steps));
  measure.allocate(ac_predictor_steps_arena_bytes(c, batch, steps, steps));
  return measure.peak();
}

inline Status ac_predictor_forward(const AcPredictorWeights& w, const AcPredictorConfig& c, const ParallelFor& par,
                                   Arena& arena, int64_t batch, int64_t steps, const float* latents,
                                   const float* actions, const float* states, const float* extrinsics, float* out,
                                   const ForwardObserver& obs = ForwardObserver()) {
  ArenaScope scope(arena);
  AcKvCache cache;
  JEPA_RETURN_IF_ERROR(ac_kv_cache_init(&cache, c, arena, batch, steps));
  return ac_predictor_forward_steps(w, c, par, arena, cache, 0, steps, latents, actions, states, extrinsics, out, obs);
}

}  // namespace models
}  // namespace jepa

#endif  // JEPA_MODELS_VJEPA2_AC_PREDICTOR_HPP
