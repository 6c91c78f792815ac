// jepa/models/vjepa2_encoder.hpp: the V-JEPA 2 video encoder, model kind
// "vjepa2.encoder" (vjepa2 src/models/vision_transformer.py VisionTransformer
// with use_rope=True, as the hub builds ViT-L/H/g; ARCHITECTURE.md §1).
//
//   tokens = Conv3d tubelet patch embed (Conv2d when num_frames == 1), order (t, h, w)
//   [masked: keep the tokens listed in the mask, RoPE at their grid positions]
//   depth x pre-norm block with 3D RoPE on q/k (ops/rope.hpp), no pos-embed
//   final LayerNorm -> [B][tokens][D]
//
// Also the V-JEPA 2-AC per-frame encoding (vjepa2_encode_frames): every frame
// repeated to fill one tubelet, encoded alone, then an affine-free LayerNorm
// (eps 1e-5) -> the world model's latents (app/vjepa_droid/train.py,
// notebooks/utils/world_model_wrapper.py).
#ifndef JEPA_MODELS_VJEPA2_ENCODER_HPP
#define JEPA_MODELS_VJEPA2_ENCODER_HPP

#include "../ops/layernorm.hpp"
#include "../ops/patch_embed.hpp"
#include "../ops/rope.hpp"
#include "vit_block.hpp"

namespace jepa {
namespace models {

struct Vjepa2EncoderConfig {
  int64_t embed_dim = 0;      // D, token width
  int64_t depth = 0;          // transformer blocks
  int64_t num_heads = 0;      // heads; head_dim = D / heads
  int64_t mlp_hidden = 0;     // fc1 width, int(D * mlp_ratio)
  int64_t patch_size = 16;    // spatial patch, pixels
  int64_t tubelet_size = 2;   // temporal patch, frames (video models)
  int64_t in_chans = 3;       // input channels
  int64_t num_frames = 16;    // trained clip length, frames; 1 = image model (Conv2d patch embed)
  int64_t img_height = 256;   // trained input height, pixels (RoPE grid when !handle_nonsquare)
  int64_t img_width = 256;    // trained input width, pixels
  double norm_eps = 1e-6;     // every LayerNorm (blocks and final norm)
  bool qkv_bias = true;       // attn.qkv has a bias
  bool handle_nonsquare = true;  // RoPE grid from the input's own T,H,W (official
                                 // handle_nonsquare_inputs); false: square grid of img_height/patch_size

  static constexpr const char* kKind = "vjepa2.encoder";

  bool is_video() const { return num_frames > 1; }
  int64_t kernel_t() const { return is_video() ? tubelet_size : 1; }  // frames per token
  int64_t head_dim() const { return embed_dim / num_heads; }
  // A run-time choice, never read from the file: the arithmetic attention
  // may use (kernels::AttnMath). automatic: bf16 where the weights are not f32
  // and the CPU has a faster tile for it (models::attention_math_for).
  kernels::AttnMath attention = kernels::AttnMath::automatic;

  VitBlockDims block_dims() const { return VitBlockDims{embed_dim, num_heads, mlp_hidden, qkv_bias, attention}; }

  Status validate() const {
    JEPA_RETURN_IF_ERROR(detail::validate_vit_dims(kKind, embed_dim, depth, num_heads, mlp_hidden, norm_eps));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.encoder patch_size", patch_size, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.encoder tubelet_size", tubelet_size, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.encoder in_chans", in_chans, 1, 4096));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.encoder num_frames", num_frames));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.encoder img_height", img_height));
    JEPA_RETURN_IF_ERROR(detail::check_dim("vjepa2.encoder img_width", img_width));
    if (in_chans * kernel_t() * patch_size * patch_size > detail::kMaxDim)
      return Status::error(Error::bad_hparam, "vjepa2.encoder: patch of %lld values is too large",
                           (long long)(in_chans * kernel_t() * patch_size * patch_size));
    return Status::ok();
  }

  static Result<Vjepa2EncoderConfig> from_file(const ModelFile& f) {
    Vjepa2EncoderConfig c;
    const int64_t big = detail::kMaxDim;
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "embed_dim", 1, big, &c.embed_dim));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "depth", 1, kMaxDepth, &c.depth));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "num_heads", 1, big, &c.num_heads));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "mlp_hidden", 1, big, &c.mlp_hidden));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "patch_size", 1, 4096, &c.patch_size));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "tubelet_size", 1, 4096, &c.tubelet_size));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "in_chans", 1, 4096, &c.in_chans));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "num_frames", 1, big, &c.num_frames));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "img_height", 1, big, &c.img_height));
    JEPA_RETURN_IF_ERROR(detail::read_int(f, "img_width", 1, big, &c.img_width));
    JEPA_RETURN_IF_ERROR(detail::read_positive_float(f, "norm_eps", &c.norm_eps));
    JEPA_RETURN_IF_ERROR(detail::read_bool_or(f, "qkv_bias", true, &c.qkv_bias));
    JEPA_RETURN_IF_ERROR(detail::read_bool_or(f, "handle_nonsquare", true, &c.handle_nonsquare));
    JEPA_RETURN_IF_ERROR(c.validate());
    return c;
  }

  void write_hparams(format::Writer& w) const {
    w.add_int("embed_dim", embed_dim);
    w.add_int("depth", depth);
    w.add_int("num_heads", num_heads);
    w.add_int("mlp_hidden", mlp_hidden);
    w.add_int("patch_size", patch_size);
    w.add_int("tubelet_size", tubelet_size);
    w.add_int("in_chans", in_chans);
    w.add_int("num_frames", num_frames);
    w.add_int("img_height", img_height);
    w.add_int("img_width", img_width);
    w.add_float("norm_eps", norm_eps);
    w.add_int("qkv_bias", qkv_bias ? 1 : 0);
    w.add_int("handle_nonsquare", handle_nonsquare ? 1 : 0);
  }
};

// Every tensor the encoder reads (the official keys without "encoder.").
// The released checkpoints also hold pos_embed, unused with RoPE: converters skip it.
template <class Visit>
void for_each_tensor(const Vjepa2EncoderConfig& c, Visit&& visit) {
  const int64_t D = c.embed_dim, p = c.patch_size;
  const int64_t conv3d[5] = {D, c.in_chans, c.tubelet_size, p, p};
  const int64_t conv2d[4] = {D, c.in_chans, p, p};
  const int64_t vec[1] = {D};
  if (c.is_video())
    visit("patch_embed.proj.weight", conv3d, 5, TensorRole::weight_matrix);
  else
    visit("patch_embed.proj.weight", conv2d, 4, TensorRole::weight_matrix);
  visit("patch_embed.proj.bias", vec, 1, TensorRole::vector);
  for (int i = 0; i < (int)c.depth; ++i) for_each_vit_block_tensor("blocks.", i, c.block_dims(), visit);
  visit("norm.weight", vec, 1, TensorRole::vector);
  visit("norm.bias", vec, 1, TensorRole::vector);
}

struct Vjepa2EncoderWeights {
  kernels::WeightMatrix patch_w;        // conv weight viewed [D][C*kt*p*p]
  const float* patch_b = nullptr;       // [D]
  VitBlockWeights blocks[kMaxDepth];    // [depth] used
  const float* norm_w = nullptr;        // [D]
  const float* norm_b = nullptr;        // [D]

  static Result<Vjepa2EncoderWeights> bind(const ModelFile& f, const Vjepa2EncoderConfig& c) {
    JEPA_RETURN_IF_ERROR(c.validate());
    detail::TensorChecker check{&f, Status::ok()};
    for_each_tensor(c, check);
    JEPA_RETURN_IF_ERROR(check.status);
    Vjepa2EncoderWeights w;
    JEPA_RETURN_IF_ERROR(detail::bind_matrix(f, "patch_embed.proj.weight", &w.patch_w));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "patch_embed.proj.bias", &w.patch_b));
    for (int i = 0; i < (int)c.depth; ++i)
      JEPA_RETURN_IF_ERROR(bind_vit_block(f, "blocks.", i, c.block_dims(), &w.blocks[i]));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "norm.weight", &w.norm_w));
    JEPA_RETURN_IF_ERROR(detail::bind_vector(f, "norm.bias", &w.norm_b));
    return w;
  }
};

// One encoder call. The video is [batch][in_chans][frames][height][width]
// (an image model reads [batch][in_chans][height][width]: frames = 1),
// already normalized. With keep_idx, only the listed tokens of each batch
// element are encoded ([batch][keep] flat token indices of the full grid).
struct Vjepa2EncoderInput {
  const float* video = nullptr;
  int64_t batch = 1, frames = 1, height = 0, width = 0;
  const int64_t* keep_idx = nullptr;  // [batch][keep] or null: every token
  int64_t keep = 0;

  // Token grid of this input (frames, rows, columns of patches).
  int64_t grid_t(const Vjepa2EncoderConfig& c) const { return frames / c.kernel_t(); }
  int64_t grid_h(const Vjepa2EncoderConfig& c) const { return height / c.patch_size; }
  int64_t grid_w(const Vjepa2EncoderConfig& c) const { return width / c.patch_size; }
  int64_t grid_tokens(const Vjepa2EncoderConfig& c) const { return grid_t(c) * grid_h(c) * grid_w(c); }
  // Tokens per batch element in the output.
  int64_t out_tokens(const Vjepa2EncoderConfig& c) const { return keep_idx ? keep : grid_tokens(c); }
};

namespace detail {

inline ops::PatchEmbedShape vjepa2_patch_shape(const Vjepa2EncoderConfig& c, const Vjepa2EncoderInput& in) {
  ops::PatchEmbedShape s;
  s.batch = in.batch;
  s.channels = c.in_chans;
  s.frames = in.frames;
  s.height = in.height;
  s.width = in.width;
  s.kt = c.kernel_t();
  s.patch = c.patch_size;
  return s;
}

struct Vjepa2EncoderScratch {
  float* patches = nullptr;  // [B*grid_tokens][D]
  float* x = nullptr;        // [B*L][D]: the residual stream (== patches when unmasked)
  float* rope = nullptr;     // [B*L][rope_token_floats]
  float* im2col = nullptr;
  VitBlockScratch block;
};

inline Vjepa2EncoderScratch plan_vjepa2_encoder(Arena& a, const Vjepa2EncoderConfig& c,
                                                const Vjepa2EncoderInput& in) {
  const int64_t D = c.embed_dim, N = in.grid_tokens(c), L = in.out_tokens(c), B = in.batch;
  Vjepa2EncoderScratch s;
  s.patches = a.alloc<float>((size_t)(B * N * D));
  s.x = in.keep_idx ? a.alloc<float>((size_t)(B * L * D)) : s.patches;
  s.rope = a.alloc<float>((size_t)(B * L * ops::rope_token_floats(c.head_dim())));
  s.im2col = a.alloc<float>(ops::patch_embed_scratch_floats(vjepa2_patch_shape(c, in)));
  s.block = plan_vit_block_scratch(a, B, L, L, c.block_dims());
  return s;
}

inline Status check_vjepa2_input(const Vjepa2EncoderConfig& c, const Vjepa2EncoderInput& in) {
  if (in.batch < 1 || in.frames < 1 || in.height < 1 || in.width < 1)
    return Status::error(Error::shape_mismatch, "vjepa2.encoder: input [%lld,%lld,%lld,%lld,%lld] has an empty dim",
                         (long long)in.batch, (long long)c.in_chans, (long long)in.frames, (long long)in.height,
                         (long long)in.width);
  if (!c.is_video() && in.frames != 1)
    return Status::error(Error::shape_mismatch, "vjepa2.encoder: an image model (num_frames 1) takes 1 frame, got %lld",
                         (long long)in.frames);
  if (in.grid_tokens(c) < 1)
    return Status::error(Error::shape_mismatch,
                         "vjepa2.encoder: %lld frames of %lldx%lld give no %lldx%lldx%lld patch",
                         (long long)in.frames, (long long)in.height, (long long)in.width, (long long)c.kernel_t(),
                         (long long)c.patch_size, (long long)c.patch_size);
  if (in.keep_idx != nullptr) {
    if (in.keep < 1)
      return Status::error(Error::invalid_argument, "vjepa2.encoder: a mask must keep at least one token");
    JEPA_RETURN_IF_ERROR(check_token_indices(in.keep_idx, in.batch * in.keep, in.grid_tokens(c), "encoder mask"));
  }
  return Status::ok();
}

}  // namespace detail

// Exact arena bytes vjepa2_encoder_forward needs for this input shape.
inline size_t vjepa2_encoder_arena_bytes(const Vjepa2EncoderConfig& c, const Vjepa2EncoderInput& in) {
  Arena measure;
  detail::plan_vjepa2_encoder(measure, c, in);
  return measure.peak();
}

// out: [batch][out_tokens][D] after the final norm. Observer: "patch_embed"
// [B*grid_tokens][D] (before masking), "block" i [B*L][D] (residual stream).
inline Status vjepa2_encoder_forward(const Vjepa2EncoderWeights& w, const Vjepa2EncoderConfig& c,
                                     const ParallelFor& par, Arena& arena, const Vjepa2EncoderInput& in,
                                     float* out, const ForwardObserver& obs = ForwardObserver()) {
  JEPA_RETURN_IF_ERROR(detail::check_vjepa2_input(c, in));
  ArenaScope scope(arena);
  const detail::Vjepa2EncoderScratch s = detail::plan_vjepa2_encoder(arena, c, in);
  JEPA_RETURN_IF_ERROR(detail::check_arena(arena, "vjepa2.encoder"));
  const int64_t D = c.embed_dim, B = in.batch, N = in.grid_tokens(c), L = in.out_tokens(c);
  const float eps = (float)c.norm_eps;

  ops::patch_embed(par, w.patch_w, w.patch_b, in.video, detail::vjepa2_patch_shape(c, in), s.patches, s.im2col);
  obs("patch_embed", 0, s.patches, B * N, D);
  if (in.keep_idx != nullptr)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < L; ++i)
        std::memcpy(s.x + (b * L + i) * D, s.patches + (b * N + in.keep_idx[b * L + i]) * D, (size_t)D * 4);

  // RoPE positions: the input's own grid, or the trained square grid.
  const int64_t gh = c.handle_nonsquare ? in.grid_h(c) : c.img_height / c.patch_size;
  const int64_t gw = c.handle_nonsquare ? in.grid_w(c) : c.img_height / c.patch_size;
  const int64_t rs = ops::rope_token_floats(c.head_dim());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < L; ++i) {
      const int64_t n = in.keep_idx ? in.keep_idx[b * L + i] : i;
      double t, h, ww;
      ops::rope_grid_position(n, gh, gw, &t, &h, &ww);
      ops::rope_fill_token(s.rope + (b * L + i) * rs, c.head_dim(), t, h, ww);
    }

  for (int l = 0; l < (int)c.depth; ++l) {
    vit_block_forward(par, w.blocks[l], c.block_dims(), eps, s.x, B, L, s.rope, rs, s.block);
    obs("block", l, s.x, B * L, D);
  }
  ops::layernorm(par, s.x, out, B * L, D, w.norm_w, w.norm_b, eps);
  return Status::ok();
}

// ---------------------------------------------------------------------------
// V-JEPA 2-AC latents: each frame of a clip encoded on its own.

struct Vjepa2FramesInput {
  const float* clip = nullptr;          // [batch][in_chans][frames][height][width]
  int64_t batch = 1, frames = 1, height = 0, width = 0;
  bool normalize = true;                // apply F.layer_norm (no affine) to each token
  double latent_eps = 1e-5;             // its eps (the official default)
};

namespace detail {
// The single-frame encoder call behind vjepa2_encode_frames: one frame
// repeated kernel_t() times (the official code repeats it twice, which is one
// tubelet for every released model).
inline Vjepa2EncoderInput vjepa2_frame_input(const Vjepa2EncoderConfig& c, const Vjepa2FramesInput& in) {
  Vjepa2EncoderInput e;
  e.batch = 1;
  e.frames = c.kernel_t();
  e.height = in.height;
  e.width = in.width;
  return e;
}
}  // namespace detail

inline size_t vjepa2_encode_frames_arena_bytes(const Vjepa2EncoderConfig& c, const Vjepa2FramesInput& in) {
  const Vjepa2EncoderInput e = detail::vjepa2_frame_input(c, in);
  Arena measure;
  measure.alloc<float>((size_t)(c.in_chans * e.frames * in.height * in.width));
  measure.allocate(vjepa2_encoder_arena_bytes(c, e));
  return measure.peak();
}

// out: [batch][frames * HW][D], frame-major, HW tokens of frame t at rows
// [t*HW, (t+1)*HW) (the official h.view(B, T, -1, D).flatten(1, 2)).
// The observer sees each frame's encoder call in turn.
inline Status vjepa2_encode_frames(const Vjepa2EncoderWeights& w, const Vjepa2EncoderConfig& c,
                                   const ParallelFor& par, Arena& arena, const Vjepa2FramesInput& in, float* out,
                                   const ForwardObserver& obs = ForwardObserver()) {
  if (in.batch < 1 || in.frames < 1)
    return Status::error(Error::shape_mismatch, "vjepa2_encode_frames: empty clip (%lld x %lld frames)",
                         (long long)in.batch, (long long)in.frames);
  Vjepa2EncoderInput e = detail::vjepa2_frame_input(c, in);
  JEPA_RETURN_IF_ERROR(detail::check_vjepa2_input(c, e));
  ArenaScope scope(arena);
  const int64_t plane = in.height * in.width, kt = e.frames, C = c.in_chans;
  float* frame = arena.alloc<float>((size_t)(C * kt * plane));
  JEPA_RETURN_IF_ERROR(detail::check_arena(arena, "vjepa2_encode_frames"));
  e.video = frame;
  const int64_t hw = e.grid_tokens(c), D = c.embed_dim;
  for (int64_t b = 0; b < in.batch; ++b)
    for (int64_t t = 0; t < in.frames; ++t) {
      for (int64_t ch = 0; ch < C; ++ch) {
        const float* src = in.clip + ((b * C + ch) * in.frames + t) * plane;
        for (int64_t r = 0; r < kt; ++r) std::memcpy(frame + (ch * kt + r) * plane, src, (size_t)plane * 4);
      }
      float* dst = out + (b * in.frames + t) * hw * D;
      JEPA_RETURN_IF_ERROR(vjepa2_encoder_forward(w, c, par, arena, e, dst, obs));
      if (in.normalize) ops::layernorm(dst, dst, hw, D, nullptr, nullptr, (float)in.latent_eps);
    }
  return Status::ok();
}

}  // namespace models
}  // namespace jepa

#endif  // JEPA_MODELS_VJEPA2_ENCODER_HPP
