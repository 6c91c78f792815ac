// jepa/models/ijepa_encoder.hpp: the I-JEPA image encoder, model kind
// "ijepa.encoder" (facebookresearch/ijepa src/models/vision_transformer.py
// VisionTransformer; ARCHITECTURE.md §5).
//
//   Conv2d patch embed, tokens row-major (h, w)
//   + pos_embed [1][N][D]: the fixed 2D sincos table stored in the checkpoint,
//     used as stored (its column-first layout differs from V-JEPA's; never regenerated)
//   [masked: keep the listed tokens]
//   depth x pre-norm block (plain softmax attention, no RoPE), final LayerNorm
// The official code uses the table unchanged whenever the input has the
// trained number of patches; other sizes would need its bicubic
// interpolation, which is not implemented (Error::unsupported).
#ifndef JEPA_MODELS_IJEPA_ENCODER_HPP
#define JEPA_MODELS_IJEPA_ENCODER_HPP

#include "../ops/layernorm.hpp"
#include "../ops/patch_embed.hpp"
#include "vit_block.hpp"

namespace jepa {
namespace models {

struct IjepaEncoderConfig {
  int64_t embed_dim = 0;    // D
  int64_t depth = 0;        // blocks
  int64_t num_heads = 0;    // head_dim = D / heads
  int64_t mlp_hidden = 0;   // int(D * mlp_ratio)
  int64_t patch_size = 16;  // pixels
  int64_t in_chans = 3;
  int64_t img_size = 224;   // trained (square) input side, pixels: N = (img_size / patch_size)^2
  double norm_eps = 1e-6;
  bool qkv_bias = true;

  static constexpr const char* kKind = "ijepa.encoder";

  int64_t head_dim() const { return embed_dim / num_heads; }
  int64_t num_patches() const { return (img_size / patch_size) * (img_size / patch_size); }
  // A run-time choice, never read from the file: the arithmetic attention
  // may use (kernels::AttnMath). automatic: bf16 where the weights are not f32
  // and the CPU has a faster tile for it (models::attention_math_for).
  kernels::AttnMath attention = kernels::AttnMath::automatic;

  VitBlockDims block_dims() const { return VitBlockDims{embed_dim, num_heads, mlp_hidden, qkv_bias, attention}; }

  Status validate() const {
    JEPA_RETURN_IF_ERROR(detail::validate_vit_dims(kKind, embed_dim, depth, num_heads, mlp_hidden, norm_eps));
    JEPA_RETURN_IF_ERROR(detail::check_dim("ijepa.encoder patch_size", patch_size, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("ijepa.encoder in_chans", in_chans, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("ijepa.encoder img_size", img_size, patch_size, 65536));
    if (in_chans * patch_size * patch_size > detail::kMaxDim)
      return Status::error(Error::bad_hparam, "ijepa.encoder: patch of %lld values is too large",
                           (long long)(in_chans * patch_size * patch_size));
    return Status::ok();
  }

  static Result<IjepaEncoderConfig> from_file(const ModelFile& f) {
    IjepaEncoderConfig c;
    const int64_t big = detail::kMaxDim;
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "embed_dim", 1, big, &c.embed_dim));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "depth", 1, kMaxDepth, &c.depth));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "num_heads", 1, big, &c.num_heads));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "mlp_hidden", 1, big, &c.mlp_hidden));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "patch_size", 1, 4096, &c.patch_size));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "in_chans", 1, 4096, &c.in_chans));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "img_size", 1, 65536, &c.img_size));
    JEPA_RETURN_IF_ERROR(detail::read_positive_float(f, "norm_eps", &c.norm_eps));
    JEPA_RETURN_IF_ERROR(detail::read_bool_or(f, "qkv_bias", true, &c.qkv_bias));
    JEPA_RETURN_IF_ERROR(c.validate());
    return c;
  }

  void write_hparams(format::Writer& w) const {
    w.add_int("embed_dim", embed_dim);
    w.add_int("depth", depth);
    w.add_int("num_heads", num_heads);
    w.add_int("mlp_hidden", mlp_hidden);
    w.add_int("patch_size", patch_size);
    w.add_int("in_chans", in_chans);
    w.add_int("img_size", img_size);
    w.add_float("norm_eps", norm_eps);
    w.add_int("qkv_bias", qkv_bias ? 1 : 0);
  }
};

template <class Visit>
void for_each_tensor(const IjepaEncoderConfig& c, Visit&& visit) {
  const int64_t D = c.embed_dim, p = c.patch_size;
  const int64_t conv[4] = {D, c.in_chans, p, p}, vec[1] = {D}, table[3] = {1, c.num_patches(), D};
  visit("patch_embed.proj.weight", conv, 4, TensorRole::weight_matrix);
  visit("patch_embed.proj.bias", vec, 1, TensorRole::vector);
  visit("pos_embed", table, 3, TensorRole::table);
  for (int i = 0; i < (int)c.depth; ++i) for_each_vit_block_tensor("blocks.", i, c.block_dims(), visit);
  visit("norm.weight", vec, 1, TensorRole::vector);
  visit("norm.bias", vec, 1, TensorRole::vector);
}

struct IjepaEncoderWeights {
  kernels::WeightMatrix patch_w;       // [D][C*p*p]
  const float* patch_b = nullptr;      // [D]
  const float* pos_embed = nullptr;    // [N][D]
  VitBlockWeights blocks[kMaxDepth];
  const float* norm_w = nullptr;
  const float* norm_b = nullptr;

  static Result<IjepaEncoderWeights> bind(const ModelFile& f, const IjepaEncoderConfig& c) {
    JEPA_RETURN_IF_ERROR(c.validate());
    detail::TensorChecker check{&f, Status::ok()};
    for_each_tensor(c, check);
    JEPA_RETURN_IF_ERROR(check.status);
    IjepaEncoderWeights w;
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "patch_embed.proj.weight", &w.patch_w));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "patch_embed.proj.bias", &w.patch_b));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "pos_embed", &w.pos_embed));
    for (int i = 0; i < (int)c.depth; ++i)
      JEPA_RETURN_IF_ERROR(bind_vit_block(f, "blocks.", i, c.block_dims(), &w.blocks[i]));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "norm.weight", &w.norm_w));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "norm.bias", &w.norm_b));
    return w;
  }
};

struct IjepaEncoderInput {
  const float* image = nullptr;        // [batch][in_chans][height][width], normalized
  int64_t batch = 1, height = 0, width = 0;
  const int64_t* keep_idx = nullptr;   // [batch][keep] token indices, or null: all tokens
  int64_t keep = 0;

  int64_t grid_tokens(const IjepaEncoderConfig& c) const { return (height / c.patch_size) * (width / c.patch_size); }
  int64_t out_tokens(const IjepaEncoderConfig& c) const { return keep_idx ? keep : grid_tokens(c); }
};

namespace detail {

inline ops::PatchEmbedShape ijepa_patch_shape(const IjepaEncoderConfig& c, const IjepaEncoderInput& in) {
  ops::PatchEmbedShape s;
  s.batch = in.batch;
  s.channels = c.in_chans;
  s.frames = 1;
  s.height = in.height;
  s.width = in.width;
  s.kt = 1;
  s.patch = c.patch_size;
  return s;
}

struct IjepaEncoderScratch {
  float* patches = nullptr;  // [B*N][D]
  float* x = nullptr;        // [B*L][D] (== patches when unmasked)
  float* im2col = nullptr;
  VitBlockScratch block;
};

inline IjepaEncoderScratch plan_ijepa_encoder(Arena& a, const IjepaEncoderConfig& c, const IjepaEncoderInput& in) {
  const int64_t D = c.embed_dim, N = in.grid_tokens(c), L = in.out_tokens(c), B = in.batch;
  IjepaEncoderScratch s;
  s.patches = a.alloc<float>((size_t)(B * N * D));
  s.x = in.keep_idx ? a.alloc<float>((size_t)(B * L * D)) : s.patches;
  s.im2col = a.alloc<float>(ops::patch_embed_scratch_floats(ijepa_patch_shape(c, in)));
  s.block = plan_vit_block_scratch(a, B, L, L, c.block_dims());
  return s;
}

}  // namespace detail

inline size_t ijepa_encoder_arena_bytes(const IjepaEncoderConfig& c, const IjepaEncoderInput& in) {
  Arena measure;
  detail::plan_ijepa_encoder(measure, c, in);
  return measure.peak();
}

// out: [batch][out_tokens][D]. Observer: "patch_embed" [B*N][D] (before
// pos_embed), "block" i [B*L][D].
inline Status ijepa_encoder_forward(const IjepaEncoderWeights& w, const IjepaEncoderConfig& c,
                                    const ParallelFor& par, Arena& arena, const IjepaEncoderInput& in, float* out,
                                    const ForwardObserver& obs = ForwardObserver()) {
  if (in.batch < 1 || in.height < c.patch_size || in.width < c.patch_size || in.image == nullptr)
    return Status::error(Error::shape_mismatch, "ijepa.encoder: input [%lld,%lld,%lld,%lld] holds no %lld-pixel patch",
                         (long long)in.batch, (long long)c.in_chans, (long long)in.height, (long long)in.width,
                         (long long)c.patch_size);
  const int64_t N = in.grid_tokens(c);
  if (N != c.num_patches())
    return Status::error(Error::unsupported,
                         "ijepa.encoder: %lldx%lld input gives %lld patches, the pos_embed has %lld "
                         "(its bicubic interpolation is not implemented)",
                         (long long)in.height, (long long)in.width, (long long)N, (long long)c.num_patches());
  if (in.keep_idx != nullptr) {
    if (in.keep < 1) return Status::error(Error::invalid_argument, "ijepa.encoder: a mask must keep a token");
    JEPA_RETURN_IF_ERROR(check_token_indices(in.keep_idx, in.batch * in.keep, N, "encoder mask"));
  }
  ArenaScope scope(arena);
  const detail::IjepaEncoderScratch s = detail::plan_ijepa_encoder(arena, c, in);
  JEPA_RETURN_IF_ERROR(detail::check_arena(arena, "ijepa.encoder"));
  const int64_t D = c.embed_dim, B = in.batch, L = in.out_tokens(c);
  const float eps = (float)c.norm_eps;

  ops::patch_embed(par, w.patch_w, w.patch_b, in.image, detail::ijepa_patch_shape(c, in), s.patches, s.im2col);
  obs("patch_embed", 0, s.patches, B * N, D);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < D; ++d) s.patches[(b * N + n) * D + d] += w.pos_embed[n * D + d];
  if (in.keep_idx != nullptr)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < L; ++i)
        std::memcpy(s.x + (b * L + i) * D, s.patches + (b * N + in.keep_idx[b * L + i]) * D, (size_t)D * 4);
  for (int l = 0; l < (int)c.depth; ++l) {
    vit_block_forward(par, w.blocks[l], c.block_dims(), eps, s.x, B, L, nullptr, 0, s.block);
    obs("block", l, s.x, B * L, D);
  }
  ops::layernorm(par, s.x, out, B * L, D, w.norm_w, w.norm_b, eps);
  return Status::ok();
}

}  // namespace models
}  // namespace jepa

#endif  // JEPA_MODELS_IJEPA_ENCODER_HPP
