// jepa/models/ijepa_predictor.hpp: the I-JEPA predictor, model kind
// "ijepa.predictor" (facebookresearch/ijepa src/models/vision_transformer.py
// VisionTransformerPredictor; ARCHITECTURE.md §5).
//
//   context [B][n_ctx][D] -> predictor_embed (width P) + predictor_pos_embed[masks_x]
//   targets = mask_token + predictor_pos_embed[masks]
//   sequence [context, targets], NOT sorted (unlike V-JEPA 2), no attention mask
//   depth x pre-norm block, predictor_norm, keep the targets, predictor_proj -> [B][n_tgt][D]
// One (masks_x, masks) pair per batch element; the official list-of-masks form
// is the same call with a larger batch.
#ifndef JEPA_MODELS_IJEPA_PREDICTOR_HPP
#define JEPA_MODELS_IJEPA_PREDICTOR_HPP

#include "../ops/layernorm.hpp"
#include "vit_block.hpp"

namespace jepa {
namespace models {

struct IjepaPredictorConfig {
  int64_t embed_dim = 0;       // D: encoder width (input and output)
  int64_t pred_embed_dim = 0;  // P
  int64_t depth = 0;
  int64_t num_heads = 0;       // head_dim = P / heads (the official predictor uses the encoder's heads)
  int64_t mlp_hidden = 0;      // int(P * mlp_ratio)
  int64_t num_patches = 0;     // N: rows of predictor_pos_embed (valid mask indices)
  double norm_eps = 1e-6;
  bool qkv_bias = true;

  static constexpr const char* kKind = "ijepa.predictor";

  // A run-time choice, never read from the file: the arithmetic attention
  // may use (kernels::AttnMath). automatic: bf16 where the weights are not f32
  // and the CPU has a faster tile for it (models::attention_math_for).
  kernels::AttnMath attention = kernels::AttnMath::automatic;

  VitBlockDims block_dims() const { return VitBlockDims{pred_embed_dim, num_heads, mlp_hidden, qkv_bias, attention}; }

  Status validate() const {
    JEPA_RETURN_IF_ERROR(detail::validate_vit_dims(kKind, pred_embed_dim, depth, num_heads, mlp_hidden, norm_eps));
    JEPA_RETURN_IF_ERROR(detail::check_dim("ijepa.predictor embed_dim", embed_dim));
    JEPA_RETURN_IF_ERROR(detail::check_dim("ijepa.predictor num_patches", num_patches));
    return Status::ok();
  }

  static Result<IjepaPredictorConfig> from_file(const ModelFile& f) {
    IjepaPredictorConfig c;
    const int64_t big = detail::kMaxDim;
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "embed_dim", 1, big, &c.embed_dim));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "pred_embed_dim", 1, big, &c.pred_embed_dim));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "depth", 1, kMaxDepth, &c.depth));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "num_heads", 1, big, &c.num_heads));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "mlp_hidden", 1, big, &c.mlp_hidden));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "num_patches", 1, big, &c.num_patches));
    JEPA_RETURN_IF_ERROR(detail::read_positive_float(f, "norm_eps", &c.norm_eps));
    JEPA_RETURN_IF_ERROR(detail::read_bool_or(f, "qkv_bias", true, &c.qkv_bias));
    JEPA_RETURN_IF_ERROR(c.validate());
    return c;
  }

  void write_hparams(format::Writer& w) const {
    w.add_int("embed_dim", embed_dim);
    w.add_int("pred_embed_dim", pred_embed_dim);
    w.add_int("depth", depth);
    w.add_int("num_heads", num_heads);
    w.add_int("mlp_hidden", mlp_hidden);
    w.add_int("num_patches", num_patches);
    w.add_float("norm_eps", norm_eps);
    w.add_int("qkv_bias", qkv_bias ? 1 : 0);
  }
};

template <class Visit>
void for_each_tensor(const IjepaPredictorConfig& c, Visit&& visit) {
  const int64_t D = c.embed_dim, P = c.pred_embed_dim;
  const int64_t embed[2] = {P, D}, proj[2] = {D, P}, vp[1] = {P}, vd[1] = {D};
  const int64_t token[3] = {1, 1, P}, table[3] = {1, c.num_patches, P};
  visit("predictor_embed.weight", embed, 2, TensorRole::weight_matrix);
  visit("predictor_embed.bias", vp, 1, TensorRole::vector);
  visit("mask_token", token, 3, TensorRole::vector);
  visit("predictor_pos_embed", table, 3, TensorRole::table);
  for (int i = 0; i < (int)c.depth; ++i) for_each_vit_block_tensor("predictor_blocks.", i, c.block_dims(), visit);
  visit("predictor_norm.weight", vp, 1, TensorRole::vector);
  visit("predictor_norm.bias", vp, 1, TensorRole::vector);
  visit("predictor_proj.weight", proj, 2, TensorRole::weight_matrix);
  visit("predictor_proj.bias", vd, 1, TensorRole::vector);
}

struct IjepaPredictorWeights {
  kernels::WeightMatrix embed;      // [P][D]
  const float* embed_b = nullptr;   // [P]
  const float* mask_token = nullptr;  // [P]
  const float* pos_embed = nullptr;   // [N][P]
  VitBlockWeights blocks[kMaxDepth];
  const float* norm_w = nullptr;
  const float* norm_b = nullptr;
  kernels::WeightMatrix proj;       // [D][P]
  const float* proj_b = nullptr;    // [D]

  static Result<IjepaPredictorWeights> bind(const ModelFile& f, const IjepaPredictorConfig& c) {
    JEPA_RETURN_IF_ERROR(c.validate());
    detail::TensorChecker check{&f, Status::ok()};
    for_each_tensor(c, check);
    JEPA_RETURN_IF_ERROR(check.status);
    IjepaPredictorWeights w;
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "predictor_embed.weight", &w.embed));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_embed.bias", &w.embed_b));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "mask_token", &w.mask_token));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_pos_embed", &w.pos_embed));
    for (int i = 0; i < (int)c.depth; ++i)
      JEPA_RETURN_IF_ERROR(bind_vit_block(f, "predictor_blocks.", i, c.block_dims(), &w.blocks[i]));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_norm.weight", &w.norm_w));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_norm.bias", &w.norm_b));
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "predictor_proj.weight", &w.proj));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "predictor_proj.bias", &w.proj_b));
    return w;
  }
};

struct IjepaPredictorInput {
  const float* context = nullptr;    // [batch][n_ctx][D]: encoder output at masks_x
  const int64_t* masks_x = nullptr;  // [batch][n_ctx]
  const int64_t* masks = nullptr;    // [batch][n_tgt]: tokens to predict
  int64_t batch = 1, n_ctx = 0, n_tgt = 0;
};

namespace detail {

struct IjepaPredictorScratch {
  float* x = nullptr;     // [B*N][P], N = n_ctx + n_tgt
  float* tgt = nullptr;   // [B*max(n_ctx, n_tgt)][P]: context embedding, then the normed targets
  VitBlockScratch block;
};

inline IjepaPredictorScratch plan_ijepa_predictor(Arena& a, const IjepaPredictorConfig& c,
                                                  const IjepaPredictorInput& in) {
  const int64_t P = c.pred_embed_dim, B = in.batch, N = in.n_ctx + in.n_tgt;
  const int64_t tmp_rows = in.n_ctx > in.n_tgt ? in.n_ctx : in.n_tgt;
  IjepaPredictorScratch s;
  s.x = a.alloc<float>((size_t)(B * N * P));
  s.tgt = a.alloc<float>((size_t)(B * tmp_rows * P));
  s.block = plan_vit_block_scratch(a, B, N, N, c.block_dims());
  return s;
}

}  // namespace detail

inline size_t ijepa_predictor_arena_bytes(const IjepaPredictorConfig& c, const IjepaPredictorInput& in) {
  Arena measure;
  detail::plan_ijepa_predictor(measure, c, in);
  return measure.peak();
}

// out: [batch][n_tgt][D] in `masks` order. Observer: "predictor_embed"
// [B*n_ctx][P] (before the pos-embed), "block" i [B*N][P].
inline Status ijepa_predictor_forward(const IjepaPredictorWeights& w, const IjepaPredictorConfig& c,
                                      const ParallelFor& par, Arena& arena, const IjepaPredictorInput& in,
                                      float* out, const ForwardObserver& obs = ForwardObserver()) {
  if (in.batch < 1 || in.n_ctx < 0 || in.n_tgt < 1 || in.masks == nullptr ||
      (in.n_ctx > 0 && (in.context == nullptr || in.masks_x == nullptr)))
    return Status::error(Error::invalid_argument, "ijepa.predictor: needs context, masks_x and masks (n_tgt >= 1)");
  JEPA_RETURN_IF_ERROR(check_token_indices(in.masks_x, in.batch * in.n_ctx, c.num_patches, "masks_x"));
  JEPA_RETURN_IF_ERROR(check_token_indices(in.masks, in.batch * in.n_tgt, c.num_patches, "masks"));
  ArenaScope scope(arena);
  const detail::IjepaPredictorScratch s = detail::plan_ijepa_predictor(arena, c, in);
  JEPA_RETURN_IF_ERROR(detail::check_arena(arena, "ijepa.predictor"));
  const int64_t P = c.pred_embed_dim, B = in.batch, nc = in.n_ctx, nt = in.n_tgt, N = nc + nt;
  const float eps = (float)c.norm_eps;

  if (nc > 0) {
    ops::linear(par, w.embed, w.embed_b, in.context, (int32_t)(B * nc), s.tgt);
    obs("predictor_embed", 0, s.tgt, B * nc, P);
  }
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < nc; ++i) {
      float* row = s.x + (b * N + i) * P;
      const float* e = s.tgt + (b * nc + i) * P;
      const float* pe = w.pos_embed + in.masks_x[b * nc + i] * P;
      for (int64_t d = 0; d < P; ++d) row[d] = e[d] + pe[d];
    }
    for (int64_t j = 0; j < nt; ++j) {
      float* row = s.x + (b * N + nc + j) * P;
      const float* pe = w.pos_embed + in.masks[b * nt + j] * P;
      for (int64_t d = 0; d < P; ++d) row[d] = w.mask_token[d] + pe[d];
    }
  }
  for (int l = 0; l < (int)c.depth; ++l) {
    vit_block_forward(par, w.blocks[l], c.block_dims(), eps, s.x, B, N, nullptr, 0, s.block);
    obs("block", l, s.x, B * N, P);
  }
  for (int64_t b = 0; b < B; ++b)
    ops::layernorm(s.x + (b * N + nc) * P, s.tgt + b * nt * P, nt, P, w.norm_w, w.norm_b, eps);
  ops::linear(par, w.proj, w.proj_b, s.tgt, (int32_t)(B * nt), out);
  return Status::ok();
}

}  // namespace models
}  // namespace jepa

#endif  // JEPA_MODELS_IJEPA_PREDICTOR_HPP
