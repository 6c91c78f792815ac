// jepa/models/vjepa2_predictor.hpp: the V-JEPA 2 masked-latent predictor,
// model kind "vjepa2.predictor" (vjepa2 src/models/predictor.py
// VisionTransformerPredictor with use_rope=True, use_mask_tokens=True;
// ARCHITECTURE.md §2).
//
//   context tokens [B][n_ctx][D_enc] -> predictor_embed -> width P
//   targets = mask_tokens[mask_index % num_mask_tokens] at every masks_y index
//   [context, targets] sorted by original token index (stable), RoPE at those
//   indices on the trained *square* grid (grid_size = img_height / patch, as
//   the official predictor passes no T/H/W), depth x pre-norm block, no mask,
//   predictor_norm, un-sort, keep the targets, predictor_proj -> [B][n_tgt][D_enc]
// One (masks_x, masks_y) pair per batch element; the official list-of-masks
// form (several masks per sample) is the same call with a larger batch.
#ifndef JEPA_MODELS_VJEPA2_PREDICTOR_HPP
#define JEPA_MODELS_VJEPA2_PREDICTOR_HPP

#include <algorithm>

#include "../ops/layernorm.hpp"
#include "../ops/rope.hpp"
#include "vit_block.hpp"

namespace jepa {
namespace models {

// Mask tokens bound in place (the hub's predictors have 10).
constexpr int kMaxMaskTokens = 64;

struct Vjepa2PredictorConfig {
  int64_t embed_dim = 0;        // D_enc: encoder width (input and output tokens)
  int64_t pred_embed_dim = 0;   // P: predictor width
  int64_t depth = 0;            // predictor blocks
  int64_t num_heads = 0;        // heads; head_dim = P / heads
  int64_t mlp_hidden = 0;       // fc1 width, int(P * mlp_ratio)
  int64_t patch_size = 16;      // pixels (grid arithmetic only)
  int64_t tubelet_size = 2;     // frames per token
  int64_t num_frames = 16;      // trained clip length; the token grid is (num_frames/tubelet) x gh x gw
  int64_t img_height = 256;     // pixels; gh = img_height / patch_size is also the RoPE grid side
  int64_t img_width = 256;      // pixels; gw = img_width / patch_size
  double norm_eps = 1e-6;       // every LayerNorm
  bool qkv_bias = true;
  int64_t num_mask_tokens = 2;  // learned mask tokens mask_tokens.{0..n-1}

  static constexpr const char* kKind = "vjepa2.predictor";

  int64_t head_dim() const { return pred_embed_dim / num_heads; }
  int64_t grid_h() const { return img_height / patch_size; }
  int64_t grid_w() const { return img_width / patch_size; }
  int64_t grid_t() const { return num_frames > 1 ? num_frames / tubelet_size : 1; }
  int64_t num_patches() const { return grid_t() * grid_h() * grid_w(); }  // valid mask indices
  // A run-time choice, never read from the file: the arithmetic attention
  // may use (kernels::AttnMath). automatic: bf16 where the weights are not f32
  // and the CPU has a faster tile for it (models::attention_math_for).
  kernels::AttnMath attention = kernels::AttnMath::automatic;

  VitBlockDims block_dims() const { return VitBlockDims{pred_embed_dim, num_heads, mlp_hidden, qkv_bias, attention}; }

  Status validate() const {
    JEPA_RETURN_IF_ERROR(detail::validate_vit_dims(kKind, pred_embed_dim, depth, num_heads, mlp_hidden, norm_eps));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.predictor embed_dim", embed_dim));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.predictor patch_size", patch_size, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.predictor tubelet_size", tubelet_size, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.predictor num_frames", num_frames));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.predictor img_height", img_height, patch_size));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.predictor img_width", img_width, patch_size));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.predictor num_mask_tokens", num_mask_tokens, 1, kMaxMaskTokens));
    if (grid_t() < 1)
      return Status::error(Error::bad_hparam, "vjepa2.predictor: num_frames %lld < tubelet_size %lld",
                           (long long)num_frames, (long long)tubelet_size);
    return Status::ok();
  }

  static Result<Vjepa2PredictorConfig> from_file(const ModelFile& f) {
    Vjepa2PredictorConfig c;
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
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "num_mask_tokens", 1, kMaxMaskTokens, &c.num_mask_tokens));
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
    w.add_int("num_mask_tokens", num_mask_tokens);
  }
};

// Every tensor the predictor reads (official keys without "predictor.").
template <class Visit>
void for_each_tensor(const Vjepa2PredictorConfig& c, Visit&& visit) {
  const int64_t D = c.embed_dim, P = c.pred_embed_dim;
  const int64_t embed[2] = {P, D}, proj[2] = {D, P}, vp[1] = {P}, vd[1] = {D}, token[3] = {1, 1, P};
  visit("predictor_embed.weight", embed, 2, TensorRole::weight_matrix);
  visit("predictor_embed.bias", vp, 1, TensorRole::vector);
  for (int k = 0; k < (int)c.num_mask_tokens; ++k)
    visit(detail::TensorName("mask_tokens.%d", k).s, token, 3, TensorRole::vector);
  for (int i = 0; i < (int)c.depth; ++i) for_each_vit_block_tensor("predictor_blocks.", i, c.block_dims(), visit);
  visit("predictor_norm.weight", vp, 1, TensorRole::vector);
  visit("predictor_norm.bias", vp, 1, TensorRole::vector);
  visit("predictor_proj.weight", proj, 2, TensorRole::weight_matrix);
  visit("predictor_proj.bias", vd, 1, TensorRole::vector);
}

struct Vjepa2PredictorWeights {
  kernels::WeightMatrix embed;            // [P][D]
  const float* embed_b = nullptr;         // [P]
  const float* mask_tokens[kMaxMaskTokens] = {};  // [num_mask_tokens] x [P]
  VitBlockWeights blocks[kMaxDepth];
  const float* norm_w = nullptr;          // [P]
  const float* norm_b = nullptr;          // [P]
  kernels::WeightMatrix proj;             // [D][P]
  const float* proj_b = nullptr;          // [D]

  static Result<Vjepa2PredictorWeights> bind(const ModelFile& f, const Vjepa2PredictorConfig& c) {
    JEPA_RETURN_IF_ERROR(c.validate());
    detail::TensorChecker check{&f, Status::ok()};
    for_each_tensor(c, check);
    JEPA_RETURN_IF_ERROR(check.status);
    Vjepa2PredictorWeights w;
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "predictor_embed.weight", &w.embed));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_embed.bias", &w.embed_b));
    for (int k = 0; k < (int)c.num_mask_tokens; ++k)
      JEPA_RETURN_IF_ERROR(detail::bind_vector(f, detail::TensorName("mask_tokens.%d", k), &w.mask_tokens[k]));
    for (int i = 0; i < (int)c.depth; ++i)
      JEPA_RETURN_IF_ERROR(bind_vit_block(f, "predictor_blocks.", i, c.block_dims(), &w.blocks[i]));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_norm.weight", &w.norm_w));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_norm.bias", &w.norm_b));
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "predictor_proj.weight", &w.proj));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_proj.bias", &w.proj_b));
    return w;
  }
};

struct Vjepa2PredictorInput {
  const float* context = nullptr;   // [batch][n_ctx][D_enc]: encoder output at masks_x
  const int64_t* masks_x = nullptr; // [batch][n_ctx]: token indices of the context
  const int64_t* masks_y = nullptr; // [batch][n_tgt]: token indices to predict
  int64_t batch = 1, n_ctx = 0, n_tgt = 0;
  int64_t mask_index = 1;           // which mask token (taken modulo num_mask_tokens)
};

namespace detail {

struct Vjepa2PredictorScratch {
  float* x = nullptr;         // [B*N][P], N = n_ctx + n_tgt, sorted order
  int64_t* pos = nullptr;     // [B*N]: token index of each row, original order
  int64_t* order = nullptr;   // [B*N]: original row index of each sorted row
  float* rope = nullptr;      // [B*N][rope floats]
  float* tgt = nullptr;       // [B*n_tgt][P]: context embedding first, then the normed targets
  VitBlockScratch block;
};

inline Vjepa2PredictorScratch plan_vjepa2_predictor(Arena& a, const Vjepa2PredictorConfig& c,
                                                    const Vjepa2PredictorInput& in) {
  const int64_t P = c.pred_embed_dim, B = in.batch, N = in.n_ctx + in.n_tgt;
  const int64_t tmp_rows = in.n_ctx > in.n_tgt ? in.n_ctx : in.n_tgt;
  Vjepa2PredictorScratch s;
  s.x = a.alloc<float>((size_t)(B * N * P));
  s.pos = a.alloc<int64_t>((size_t)(B * N));
  s.order = a.alloc<int64_t>((size_t)(B * N));
  s.rope = a.alloc<float>((size_t)(B * N * ops::rope_token_floats(c.head_dim())));
  s.tgt = a.alloc<float>((size_t)(B * tmp_rows * P));
  s.block = plan_vit_block_scratch(a, B, N, N, c.block_dims());
  return s;
}

}  // namespace detail

inline size_t vjepa2_predictor_arena_bytes(const Vjepa2PredictorConfig& c, const Vjepa2PredictorInput& in) {
  Arena measure;
  detail::plan_vjepa2_predictor(measure, c, in);
  return measure.peak();
}

// out: [batch][n_tgt][D_enc], in masks_y order. Observer: "predictor_embed"
// [B*n_ctx][P], "block" i [B*N][P] in sorted token order.
inline Status vjepa2_predictor_forward(const Vjepa2PredictorWeights& w, const Vjepa2PredictorConfig& c,
                                       const ParallelFor& par, Arena& arena, const Vjepa2PredictorInput& in,
                                       float* out, const ForwardObserver& obs = ForwardObserver()) {
  if (in.batch < 1 || in.n_ctx < 0 || in.n_tgt < 1 || in.masks_y == nullptr ||
      (in.n_ctx > 0 && (in.context == nullptr || in.masks_x == nullptr)))
    return Status::error(Error::invalid_argument, "vjepa2.predictor: needs context, masks_x and masks_y (n_tgt >= 1)");
  JEPA_RETURN_IF_ERROR(check_token_indices(in.masks_x, in.batch * in.n_ctx, c.num_patches(), "masks_x"));
  JEPA_RETURN_IF_ERROR(check_token_indices(in.masks_y, in.batch * in.n_tgt, c.num_patches(), "masks_y"));
  ArenaScope scope(arena);
  const detail::Vjepa2PredictorScratch s = detail::plan_vjepa2_predictor(arena, c, in);
  JEPA_RETURN_IF_ERROR(detail::check_arena(arena, "vjepa2.predictor"));
  const int64_t P = c.pred_embed_dim, B = in.batch, nc = in.n_ctx, nt = in.n_tgt, N = nc + nt;
  const float eps = (float)c.norm_eps;
  int64_t mi = in.mask_index % c.num_mask_tokens;
  if (mi < 0) mi += c.num_mask_tokens;  // Python's modulo
  const float* mask_token = w.mask_tokens[mi];

  if (nc > 0) {
    ops::linear(par, w.embed, w.embed_b, in.context, (int32_t)(B * nc), s.tgt);
    obs("predictor_embed", 0, s.tgt, B * nc, P);
  }
  // Sort [context, targets] by token index; ties keep their original order,
  // which is what a stable argsort gives (indices are distinct in practice).
  const int64_t rs = ops::rope_token_floats(c.head_dim()), gs = c.grid_h();
  for (int64_t b = 0; b < B; ++b) {
    int64_t* pos = s.pos + b * N;
    int64_t* order = s.order + b * N;
    for (int64_t i = 0; i < nc; ++i) pos[i] = in.masks_x[b * nc + i];
    for (int64_t j = 0; j < nt; ++j) pos[nc + j] = in.masks_y[b * nt + j];
    for (int64_t r = 0; r < N; ++r) order[r] = r;
    std::sort(order, order + N, [pos](int64_t a, int64_t z) { return pos[a] < pos[z] || (pos[a] == pos[z] && a < z); });
    for (int64_t r = 0; r < N; ++r) {
      const int64_t src = order[r];
      const float* row = src < nc ? s.tgt + (b * nc + src) * P : mask_token;
      std::memcpy(s.x + (b * N + r) * P, row, (size_t)P * sizeof(float));
      double t, h, ww;
      ops::rope_grid_position(pos[src], gs, gs, &t, &h, &ww);
      ops::rope_fill_token(s.rope + (b * N + r) * rs, c.head_dim(), t, h, ww);
    }
  }
  for (int l = 0; l < (int)c.depth; ++l) {
    vit_block_forward(par, w.blocks[l], c.block_dims(), eps, s.x, B, N, s.rope, rs, s.block);
    obs("block", l, s.x, B * N, P);
  }
  // predictor_norm is per token, so normalizing only the targets (in masks_y
  // order) gives the official values.
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < N; ++r) {
      const int64_t src = s.order[b * N + r];
      if (src < nc) continue;
      ops::layernorm_rows(s.x + (b * N + r) * P, (size_t)P, s.tgt + (b * nt + (src - nc)) * P, (size_t)P, 1, P,
                          w.norm_w, w.norm_b, eps);
    }
  ops::linear(par, w.proj, w.proj_b, s.tgt, (int32_t)(B * nt), out);
  return Status::ok();
}

}  // namespace models
}  // namespace jepa

#endif  // JEPA_MODELS_VJEPA2_PREDICTOR_HPP
